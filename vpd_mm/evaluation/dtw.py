"""Dynamic time warping between feature sequences: batched, numba-parallel, Euclidean frame cost.

The step patterns are those of dtw-python (Giorgino 2009) that the reference uses (spec §6.5, §7):

- ``'symmetricP2'``: Sakoe-Chiba slope constraint P = 2. The cumulative cost ``g`` of cell ``(i, j)`` is the
  smallest of ``g(i-1, j-1) + 2 d(i, j)``, ``g(i-2, j-3) + 2 d(i-1, j-2) + 2 d(i, j-1) + d(i, j)`` and
  ``g(i-3, j-2) + 2 d(i-2, j-1) + 2 d(i-1, j) + d(i, j)``: the path's slope stays between 2/3 and 3/2, so two
  sequences whose lengths differ too much have no admissible path.
- ``'symmetric2'``: ``g(i-1, j-1) + 2 d(i, j)``, ``g(i, j-1) + d(i, j)``, ``g(i-1, j) + d(i, j)``; always a path.

Both start with ``g(0, 0) = d(0, 0)``, fix both endpoints, use no window, and normalise the total cost by
``N + M`` (dtw-python's ``normalizedDistance``). ``d`` is the Euclidean distance between frames (not squared).

How :func:`pairwise_dtw` computes them. All frames are centred on their common mean (distances do not change;
the norms shrink, which makes the expansion below more accurate), where they are very large or small divided by
a power of two that brings them near 1 (exact; float32 neither over- nor underflows; the distances are scaled back
at the end), and rounded to float32; the squared distance of frames ``x`` and ``y`` is ``|x|^2 + |y|^2 - 2 x.y``:

- pairs that need their whole cost matrix (``'symmetric2'``, and the ``'symmetricP2'`` pairs without an
  admissible path that the fallback sends to symmetric2) get it from float32 matrix products, one per query and
  run of such gallery sequences, by numpy (BLAS) or, with ``device=...``, by torch on that device; the rows are
  augmented to ``[x, |x|^2, 1]`` and ``[-2 y, 1, |y|^2]``, so that the product is the squared distance itself;
- ``'symmetricP2'`` pairs with a path read only the band of cells that such a path can pass (about a fifth of
  the matrix for sequences of equal length, less for unequal ones). numpy computes those dot products in the
  numba kernel (float32, four query frames at a time), because a full matrix product would compute five times as
  many cells, more than BLAS gains (measured); with ``device=...`` they come from the torch product.

A squared distance at or below ``_REL32 (|x|^2 + |y|^2)`` (near frames, where the float32 rounding of the
expansion matters) is recomputed as a direct float64 sum of squares of the original frames; so no negative value
reaches the square root, and each frame cost has a relative error below about 5e-6 (the measured float32 error of
the expansion is below 1e-6 of ``|x|^2 + |y|^2``; typical errors of the distances are about 1e-7).

The dynamic programme runs in float64 in numba, in parallel (``prange``; kernels cached on disk). The gallery is
sorted by length and cut into groups of up to ``_GROUP_MAX`` sequences of equal length, stored interleaved, so
that one query against one group is a single (N, M * K) cost matrix and the recursion runs over all K pairs at
once: the per-row work of the band is shared by K pairs and the inner loops vectorise.

The previous implementation, which computes every cost in the kernel from float64 dot products, is kept as
:func:`pairwise_dtw_percell`: the tests compare the two, and ``benchmarks/dtw_speed.py`` times both.

dtw-python is used by the tests as the oracle and by ``benchmarks/dtw_speed.py`` as the baseline; this module
does not import it.
"""
from __future__ import annotations

import functools
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

import numba
import numpy as np

__all__ = ['STEP_PATTERNS', 'dtw_distance', 'pairwise_dtw']

STEP_PATTERNS = ('symmetricP2', 'symmetric2')
_P2, _S2 = 0, 1
# fast-math flags for the frame cost only: reassociation lets LLVM vectorise the sum of squares; no 'nnan' or
# 'ninf', because inf marks "no admissible path" in the dynamic programme.
_FAST = {'reassoc', 'contract', 'nsz', 'arcp'}
# Squared costs below this fraction of |x|^2 + |y|^2 are recomputed as a direct sum of squares (the dot-product
# formula loses relative precision there); above it the relative error of a cost is below about 1e-8.
_RECOMPUTE_REL = 1e-6
# The same for squared distances from float32 products (pairwise_dtw): their error is below 1e-6 (measured;
# about 2e-7 typically) of |x|^2 + |y|^2, so above this threshold a cost's relative error is below 5e-6.
_REL32 = 0.1
# Pairs a thread takes at a time (dynamic scheduling: a thread slowed down by other jobs on the machine does not
# hold the others up, as numba's default equal split would).
_CHUNK = 64
# Pairs per call of the numba kernel when a progress bar is shown (pairwise_dtw_percell).
_PAIRS_PER_CHUNK = 20000
# pairwise_dtw: gallery sequences per group (of equal length; see the kernels), (query, group) items per call of
# the numba kernel, float32 values of the matrix products per call, gallery frames per matrix product.
_GROUP_MAX = 16
_ITEMS_PER_CALL = 4096
_BUFFER_FLOATS = 1 << 24
_GALLERY_FRAMES = 1 << 16
# Centred frames larger or smaller than these (absolute values) are rescaled by a power of two first.
_MIN_REACH, _MAX_REACH = 2.0 ** -30, 2.0 ** 30
# Columns next to a symmetricP2 band row that later rows may read (the band edges move by at most 2 per row).
_P2_PAD = 4


# ------------------------------------------------------------------------------- reference kernels (per cell)
@numba.njit(cache=True, nogil=True)
def _finish_cost(dot: float, x_sq: float, y_sq: float, xf: np.ndarray, xi: int, yf: np.ndarray, yj: int) -> float:
    """Euclidean distance from ``|x|^2 + |y|^2 - 2 x.y``; recomputed as a direct sum of squares where that
    difference is too small a fraction of the norms to be accurate (near-duplicate frames)."""
    norms = x_sq + y_sq
    sq = norms - 2.0 * dot
    if sq <= _RECOMPUTE_REL * norms:
        sq = 0.0
        for k in range(xf.shape[1]):
            diff = xf[xi, k] - yf[yj, k]
            sq += diff * diff
    return math.sqrt(sq)


@numba.njit(cache=True, nogil=True, fastmath=_FAST, inline='always')
def _cost_rows(xf: np.ndarray, x_sq: np.ndarray, xo: int, yf: np.ndarray, y_sq: np.ndarray, yo: int, r0: int,
               r1: int, j_lo: int, j_hi: int, cost: np.ndarray) -> None:
    """``cost[r, j]`` = Euclidean distance of frames ``xf[xo + r]`` and ``yf[yo + j]`` for r in [r0, r1), j in
    [j_lo, j_hi], from dot products; four rows at a time, so each gallery frame is loaded once per four query
    frames (``x_sq``, ``y_sq``: squared frame norms)."""
    dim = xf.shape[1]
    r = r0
    while r + 4 <= r1:
        x0, x1, x2, x3 = xo + r, xo + r + 1, xo + r + 2, xo + r + 3
        for j in range(j_lo, j_hi + 1):
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for k in range(dim):
                y = yf[yo + j, k]
                s0 += xf[x0, k] * y
                s1 += xf[x1, k] * y
                s2 += xf[x2, k] * y
                s3 += xf[x3, k] * y
            yj = yo + j
            cost[r, j] = _finish_cost(s0, x_sq[x0], y_sq[yj], xf, x0, yf, yj)
            cost[r + 1, j] = _finish_cost(s1, x_sq[x1], y_sq[yj], xf, x1, yf, yj)
            cost[r + 2, j] = _finish_cost(s2, x_sq[x2], y_sq[yj], xf, x2, yf, yj)
            cost[r + 3, j] = _finish_cost(s3, x_sq[x3], y_sq[yj], xf, x3, yf, yj)
        r += 4
    while r < r1:
        xi = xo + r
        for j in range(j_lo, j_hi + 1):
            s0 = 0.0
            for k in range(dim):
                s0 += xf[xi, k] * yf[yo + j, k]
            cost[r, j] = _finish_cost(s0, x_sq[xi], y_sq[yo + j], xf, xi, yf, yo + j)
        r += 1


@numba.njit(cache=True, nogil=True)
def _p2_band(i: int, n1: int, m1: int) -> tuple[int, int]:
    """Columns ``[lo, hi]`` of row ``i`` that a symmetricP2 path from (0, 0) to (n1, m1) can pass as an origin.

    A cell (i, j) is reachable from (0, 0) with steps (1, 1), (2, 3), (3, 2) iff 2 max(i, j) <= 3 min(i, j), and
    the end is reachable from it under the same condition on (n1 - i, m1 - j).
    """
    lo = max((2 * i + 2) // 3, m1 - (3 * (n1 - i)) // 2)
    hi = min((3 * i) // 2, m1 - (2 * (n1 - i) + 2) // 3)
    return lo, hi


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _p2_costs(xf: np.ndarray, x_sq: np.ndarray, xo: int, n: int, yf: np.ndarray, y_sq: np.ndarray, yo: int,
              m: int) -> np.ndarray:
    """(n, m) frame costs of the cells a symmetricP2 recursion can read; the others are 0 (never read with a
    finite origin).

    Row r is read at the band columns of row r, one left of them (pattern (2,3) passes (i, j-1)), the band of row
    r+1 and two left of it ((i-1, j-2), (i-1, j)), and one left of the band of row r+2 ((i-2, j-1)). Blocks of
    four rows share the columns all four need; each row's remaining columns are computed alone.
    """
    n1, m1 = n - 1, m - 1
    lo = np.empty(n, np.int64)
    hi = np.empty(n, np.int64)
    for r in range(n):
        l0, h0 = _p2_band(r, n1, m1)
        l1, h1 = _p2_band(min(r + 1, n1), n1, m1)
        l2, h2 = _p2_band(min(r + 2, n1), n1, m1)
        lo[r] = max(0, min(l0 - 1, l1 - 2, l2 - 1))
        hi[r] = min(m1, max(h0, h1, h2 - 1))
    cost = np.zeros((n, m))
    for r0 in range(0, n, 4):
        r1 = min(r0 + 4, n)
        common_lo, common_hi = lo[r1 - 1], hi[r0]  # lo and hi never decrease with r
        if r1 - r0 == 4 and common_lo <= common_hi:
            _cost_rows(xf, x_sq, xo, yf, y_sq, yo, r0, r1, common_lo, common_hi, cost)
            for r in range(r0, r1):
                _cost_rows(xf, x_sq, xo, yf, y_sq, yo, r, r + 1, lo[r], min(hi[r], common_lo - 1), cost)
                _cost_rows(xf, x_sq, xo, yf, y_sq, yo, r, r + 1, max(lo[r], common_hi + 1), hi[r], cost)
        else:
            for r in range(r0, r1):
                _cost_rows(xf, x_sq, xo, yf, y_sq, yo, r, r + 1, lo[r], hi[r], cost)
    return cost


@numba.njit(cache=True, nogil=True)
def _dtw_p2(xf: np.ndarray, x_sq: np.ndarray, xo: int, n: int, yf: np.ndarray, y_sq: np.ndarray, yo: int,
            m: int) -> float:
    """symmetricP2 total cost of x = ``xf[xo:xo+n]`` against y = ``yf[yo:yo+m]``; inf when there is no path.

    Only the cells of the admissible band are evaluated (:func:`_p2_band`; the frame costs they read come from
    :func:`_p2_costs`), about a fifth of the matrix for sequences of equal length.
    """
    n1, m1 = n - 1, m - 1
    if 2 * max(n1, m1) > 3 * min(n1, m1):
        return np.inf
    inf = np.inf
    cost = _p2_costs(xf, x_sq, xo, n, yf, y_sq, yo, m)
    g = np.full((n, m), inf)
    g[0, 0] = cost[0, 0]
    for i in range(1, n):
        lo, hi = _p2_band(i, n1, m1)
        lo, hi = max(lo, 1), min(hi, m1)
        if i >= 4:  # band columns are >= ceil(2i/3) >= 3 here: every pattern's origin is inside the matrix
            for j in range(lo, hi + 1):
                c = cost[i, j]
                best = g[i - 1, j - 1] + 2.0 * c
                best = min(best, g[i - 2, j - 3] + 2.0 * cost[i - 1, j - 2] + 2.0 * cost[i, j - 1] + c)
                best = min(best, g[i - 3, j - 2] + 2.0 * cost[i - 2, j - 1] + 2.0 * cost[i - 1, j] + c)
                g[i, j] = best
        else:
            for j in range(lo, hi + 1):
                c = cost[i, j]
                best = g[i - 1, j - 1] + 2.0 * c
                if i >= 2 and j >= 3:
                    best = min(best, g[i - 2, j - 3] + 2.0 * cost[i - 1, j - 2] + 2.0 * cost[i, j - 1] + c)
                if i >= 3 and j >= 2:
                    best = min(best, g[i - 3, j - 2] + 2.0 * cost[i - 2, j - 1] + 2.0 * cost[i - 1, j] + c)
                g[i, j] = best
    return g[n1, m1]


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _full_costs(xf: np.ndarray, x_sq: np.ndarray, xo: int, n: int, yf: np.ndarray, y_sq: np.ndarray, yo: int,
                m: int) -> np.ndarray:
    """(n, m) frame costs of x = ``xf[xo:xo+n]`` against y = ``yf[yo:yo+m]``."""
    cost = np.empty((n, m))
    _cost_rows(xf, x_sq, xo, yf, y_sq, yo, 0, n, 0, m - 1, cost)
    return cost


@numba.njit(cache=True, nogil=True)
def _dtw_s2(xf: np.ndarray, x_sq: np.ndarray, xo: int, n: int, yf: np.ndarray, y_sq: np.ndarray, yo: int,
            m: int) -> float:
    """symmetric2 total cost of x = ``xf[xo:xo+n]`` against y = ``yf[yo:yo+m]`` (always finite)."""
    cost = _full_costs(xf, x_sq, xo, n, yf, y_sq, yo, m)
    row = np.empty(m)
    row[0] = cost[0, 0]
    for j in range(1, m):
        row[j] = row[j - 1] + cost[0, j]
    for i in range(1, n):
        diag = row[0]  # g(i-1, j-1) for the next column
        row[0] = row[0] + cost[i, 0]
        for j in range(1, m):
            c = cost[i, j]
            up = row[j]  # g(i-1, j)
            row[j] = min(diag + 2.0 * c, row[j - 1] + c, up + c)  # g(i-1, j-1), g(i, j-1), g(i-1, j)
            diag = up
    return row[m - 1]


@numba.njit(cache=True, parallel=True)
def _dtw_pairs(xf: np.ndarray, x_sq: np.ndarray, x_off: np.ndarray, x_len: np.ndarray, q_rows: np.ndarray,
               yf: np.ndarray, y_sq: np.ndarray, y_off: np.ndarray, y_len: np.ndarray,
               pattern: int, fallback: bool, upper_only: bool, out: np.ndarray) -> None:
    """Normalised DTW of every (query ``q_rows[a]``, gallery ``b``) pair, written into ``out[q_rows[a], b]``.

    ``xf`` (Fq, d) and ``yf`` (Fg, d) hold all frames back to back (sequence a starts at ``x_off[a]`` and has
    ``x_len[a]`` frames). With ``upper_only`` pairs with query index > gallery index are skipped.
    """
    ng = y_len.shape[0]
    for p in numba.prange(q_rows.shape[0] * ng):
        a = q_rows[p // ng]
        b = p % ng
        if upper_only and a > b:
            continue
        n = x_len[a]
        m = y_len[b]
        if pattern == _P2:
            total = _dtw_p2(xf, x_sq, x_off[a], n, yf, y_sq, y_off[b], m)
            if fallback and total == np.inf:
                total = _dtw_s2(xf, x_sq, x_off[a], n, yf, y_sq, y_off[b], m)
        else:
            total = _dtw_s2(xf, x_sq, x_off[a], n, yf, y_sq, y_off[b], m)
        out[a, b] = total / (n + m)


# ----------------------------------------------------------------------------------- kernels of pairwise_dtw
# The gallery is sorted by length and cut into groups of at most _GROUP_MAX sequences of equal length m, stored
# interleaved: position j * K + k of a group of K holds frame j of its k-th sequence. One query against a group
# is then one (n, m * K) cost matrix, and the dynamic programme runs on all K pairs at once (the inner loops run
# over K times as many cells, so their fixed cost per row is shared by K pairs and they vectorise).
@numba.njit(cache=True, nogil=True)
def _exact_sq(xf: np.ndarray, xi: int, yf: np.ndarray, yj: int) -> float:
    """Squared Euclidean distance of frames ``xf[xi]`` and ``yf[yj]``, a direct float64 sum of squares."""
    sq = 0.0
    for k in range(xf.shape[1]):
        diff = xf[xi, k] - yf[yj, k]
        sq += diff * diff
    return sq


@numba.njit(cache=True, nogil=True)
def _recompute_row(row: np.ndarray, x_sq_i: float, y_sq: np.ndarray, xf: np.ndarray, xi: int, yf: np.ndarray,
                   y_src: np.ndarray) -> None:
    """Second pass of :func:`_finish_row`: the costs at or below ``sqrt(_REL32 (|x|^2 + |y|^2))`` (all that the
    first pass flagged, and perhaps a few borderline ones more, which is harmless) from the original float64
    frames."""
    for k in range(row.shape[0]):
        if row[k] <= 1.000001 * math.sqrt(_REL32 * (x_sq_i + y_sq[k])):
            row[k] = math.sqrt(_exact_sq(xf, xi, yf, y_src[k]))


@numba.njit(cache=True, nogil=True)
def _finish_row(row: np.ndarray, x_sq_i: float, y_sq: np.ndarray, xf: np.ndarray, xi: int, yf: np.ndarray,
                y_src: np.ndarray) -> None:
    """``row`` (W,): squared distances from the expansion, of query frame ``xi`` against W gallery frames ->
    Euclidean frame costs, in place.

    A value at or below ``_REL32 (|x|^2 + |y|^2)`` (``x_sq_i``, ``y_sq`` (W,): squared norms of the centred
    frames) is recomputed from the original float64 frames ``xf[xi]`` and ``yf[y_src[k]]``; negative values of
    the expansion are among them, and the rest is clamped at 0 before the square root all the same. (Loops over
    ``range(W)`` on views, indices that numba knows to be non-negative, and no branch in the first loop: so it
    vectorises.)
    """
    bad = 0
    for k in range(row.shape[0]):
        value = row[k]
        bad += value <= _REL32 * (x_sq_i + y_sq[k])
        row[k] = math.sqrt(np.float32(max(value, 0.0)))  # float32 root: twice as fast, relative error < 1e-7
    if bad:
        _recompute_row(row, x_sq_i, y_sq, xf, xi, yf, y_src)


@numba.njit(cache=True, nogil=True)
def _finish_from(src: np.ndarray, row: np.ndarray, x_sq_i: float, y_sq: np.ndarray, xf: np.ndarray, xi: int,
                 yf: np.ndarray, y_src: np.ndarray) -> None:
    """:func:`_finish_row` from the float32 squared distances ``src`` (W,) of a matrix product into ``row`` (W,)
    (a separate array: with one array for both, numba's alias check would keep the loop scalar)."""
    bad = 0
    for k in range(row.shape[0]):
        value = np.float64(src[k])
        bad += value <= _REL32 * (x_sq_i + y_sq[k])
        row[k] = math.sqrt(np.float32(max(value, 0.0)))  # float32 root: twice as fast, relative error < 1e-7
    if bad:
        _recompute_row(row, x_sq_i, y_sq, xf, xi, yf, y_src)


@numba.njit(cache=True, nogil=True, fastmath=_FAST, inline='always')  # inlined code takes the caller's flags
def _sq32_rows(x32: np.ndarray, x_sq: np.ndarray, xo: int, y32: np.ndarray, y_sq: np.ndarray, yo: int, r0: int,
               r1: int, j_lo: int, j_hi: int, sq: np.ndarray, dim: int) -> None:
    """``sq[r, j] = |x|^2 + |y|^2 - 2 x.y`` of frames ``x32[xo + r]``, ``y32[yo + j]`` for r in [r0, r1), j in
    [j_lo, j_hi]: float32 dot products, four rows at a time (each gallery frame loaded once per four query
    frames), then two, then one; ``x_sq``, ``y_sq``: float64 squared norms; ``dim``: d (a constant where the
    caller passes one: the loops over it then compile to straight vector code)."""
    r = r0
    while r + 4 <= r1:
        x0, x1, x2, x3 = xo + r, xo + r + 1, xo + r + 2, xo + r + 3
        for j in range(j_lo, j_hi + 1):
            yj = yo + j
            s0 = np.float32(0.0)
            s1 = np.float32(0.0)
            s2 = np.float32(0.0)
            s3 = np.float32(0.0)
            for k in range(dim):
                y = y32[yj, k]
                s0 += x32[x0, k] * y
                s1 += x32[x1, k] * y
                s2 += x32[x2, k] * y
                s3 += x32[x3, k] * y
            sq[r, j] = x_sq[x0] + y_sq[yj] - 2.0 * np.float64(s0)
            sq[r + 1, j] = x_sq[x1] + y_sq[yj] - 2.0 * np.float64(s1)
            sq[r + 2, j] = x_sq[x2] + y_sq[yj] - 2.0 * np.float64(s2)
            sq[r + 3, j] = x_sq[x3] + y_sq[yj] - 2.0 * np.float64(s3)
        r += 4
    if r + 2 <= r1:
        x0, x1 = xo + r, xo + r + 1
        for j in range(j_lo, j_hi + 1):
            yj = yo + j
            s0 = np.float32(0.0)
            s1 = np.float32(0.0)
            for k in range(dim):
                y = y32[yj, k]
                s0 += x32[x0, k] * y
                s1 += x32[x1, k] * y
            sq[r, j] = x_sq[x0] + y_sq[yj] - 2.0 * np.float64(s0)
            sq[r + 1, j] = x_sq[x1] + y_sq[yj] - 2.0 * np.float64(s1)
        r += 2
    if r < r1:
        xi = xo + r
        for j in range(j_lo, j_hi + 1):
            yj = yo + j
            s0 = np.float32(0.0)
            for k in range(dim):
                s0 += x32[xi, k] * y32[yj, k]
            sq[r, j] = x_sq[xi] + y_sq[yj] - 2.0 * np.float64(s0)


@numba.njit(cache=True, nogil=True)
def _p2_admissible(n: int, m: int) -> bool:
    """Whether a symmetricP2 path joins (0, 0) and (n-1, m-1): ``2 max(n-1, m-1) <= 3 min(n-1, m-1)``."""
    return 2 * max(n - 1, m - 1) <= 3 * min(n - 1, m - 1)


@numba.njit(cache=True, nogil=True)
def _cost_columns(n: int, m: int, p2: bool) -> tuple[np.ndarray, np.ndarray]:
    """Columns ``[lo[r], hi[r]]`` of row r that the recursion reads: all for symmetric2; for symmetricP2 the band
    columns of row r, one left of them (pattern (2,3) passes (i, j-1)), the band of row r+1 and two left of it
    ((i-1, j-2), (i-1, j)), and one left of the band of row r+2 ((i-2, j-1)). Neither bound decreases with r."""
    lo = np.zeros(n, np.int64)
    hi = np.full(n, m - 1, np.int64)
    if p2:
        n1, m1 = n - 1, m - 1
        for r in range(n):
            l0, h0 = _p2_band(r, n1, m1)
            l1, h1 = _p2_band(min(r + 1, n1), n1, m1)
            l2, h2 = _p2_band(min(r + 2, n1), n1, m1)
            lo[r] = max(0, min(l0 - 1, l1 - 2, l2 - 1))
            hi[r] = min(m1, max(h0, h1, h2 - 1))
    return lo, hi


@numba.njit(cache=True, nogil=True, fastmath=_FAST, inline='always')
def _band_sq32(x32: np.ndarray, x_sq: np.ndarray, xo: int, n: int, y32: np.ndarray, y_sq: np.ndarray, yo: int,
               lo: np.ndarray, hi: np.ndarray, sq: np.ndarray, dim: int) -> None:
    """``sq[r, lo[r]:hi[r]+1]`` for every row r by :func:`_sq32_rows`: four rows at a time on the columns all four
    read, the rest in a staircase (``lo`` and ``hi`` (n,) never decrease with r)."""
    for r0 in range(0, n, 4):
        r1 = min(r0 + 4, n)
        if r1 - r0 == 4 and lo[r0 + 3] <= hi[r0]:
            # lo and hi never decrease with r: a staircase. Columns read by rows r0..r0+3 (all four), then to the
            # left by r0..r0+2, r0..r0+1, r0, to the right by r0+1..r0+3, r0+2..r0+3, r0+3.
            _sq32_rows(x32, x_sq, xo, y32, y_sq, yo, r0, r0 + 4, lo[r0 + 3], hi[r0], sq, dim)
            for rows in range(3, 0, -1):
                _sq32_rows(x32, x_sq, xo, y32, y_sq, yo, r0, r0 + rows, lo[r0 + rows - 1], lo[r0 + rows] - 1, sq, dim)
                _sq32_rows(x32, x_sq, xo, y32, y_sq, yo, r0 + 4 - rows, r0 + 4, hi[r0 + 3 - rows] + 1,
                           hi[r0 + 4 - rows], sq, dim)
        else:
            for r in range(r0, r1):
                _sq32_rows(x32, x_sq, xo, y32, y_sq, yo, r, r + 1, lo[r], hi[r], sq, dim)


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _group_costs(x64: np.ndarray, x32: np.ndarray, x_sq: np.ndarray, xo: int, n: int, y64: np.ndarray,
                 y32: np.ndarray, y_sq: np.ndarray, y_src: np.ndarray, yo: int, m: int, size: int, p2: bool,
                 blk: np.ndarray, base: int, stride: int) -> np.ndarray:
    """(n, m * K) float64 frame costs of query frames ``xo:xo+n`` against a group of K = ``size`` gallery
    sequences of length m at interleaved frames ``yo:yo+m*K``, in the columns the recursion reads
    (:func:`_cost_columns`; the others are left undefined).

    ``base >= 0``: the squared distances are ``blk[base + r * stride + c]`` (a matrix product); otherwise they are
    computed here from the float32 frames ``x32``, ``y32`` (blocks of four rows on the columns all four read).
    """
    lo, hi = _cost_columns(n, m, p2)
    lo *= size
    hi = (hi + 1) * size - 1
    cost = np.empty((n, m * size))
    if base >= 0:
        for r in range(n):
            start, c0, c1 = base + r * stride, yo + lo[r], yo + hi[r] + 1
            _finish_from(blk[start + lo[r]:start + hi[r] + 1], cost[r, lo[r]:hi[r] + 1], x_sq[xo + r],
                         y_sq[c0:c1], x64, xo + r, y64, y_src[c0:c1])
        return cost
    dim = x32.shape[1]
    if dim == 64:  # the common case (VPD embeddings), compiled with d known
        _band_sq32(x32, x_sq, xo, n, y32, y_sq, yo, lo, hi, cost, 64)
    else:
        _band_sq32(x32, x_sq, xo, n, y32, y_sq, yo, lo, hi, cost, dim)
    for r in range(n):
        c0, c1 = yo + lo[r], yo + hi[r] + 1
        _finish_row(cost[r, lo[r]:hi[r] + 1], x_sq[xo + r], y_sq[c0:c1], x64, xo + r, y64, y_src[c0:c1])
    return cost


@numba.njit(cache=True, nogil=True)
def _p2_group(cost: np.ndarray, n: int, m: int, size: int, totals: np.ndarray) -> None:
    """symmetricP2 total costs of K = ``size`` pairs from their interleaved (n, m * K) frame costs into
    ``totals`` (K,) (a path must exist: :func:`_p2_admissible`).

    Only the band cells are evaluated (:func:`_p2_band`); the cumulative costs live in four rows reused in turn.
    Every read of a row falls inside its band or at most ``_P2_PAD`` columns next to it, where inf is written.
    """
    n1, m1 = n - 1, m - 1
    inf = np.inf
    g = np.full((4, m * size), inf)
    for k in range(size):
        g[0, k] = cost[0, k]
    for i in range(1, n):
        lo, hi = _p2_band(i, n1, m1)
        lo, hi = max(lo, 1), min(hi, m1)
        g0 = g[i % 4]
        g1 = g[(i - 1) % 4]
        g2 = g[(i - 2) % 4]
        g3 = g[(i - 3) % 4]
        g0[max(lo - _P2_PAD, 0) * size:lo * size] = inf  # (slices: a loop over c would compile to scatters)
        g0[(hi + 1) * size:min(hi + 1 + _P2_PAD, m) * size] = inf
        c0 = cost[i]
        c1 = cost[i - 1]
        c2 = cost[max(i - 2, 0)]
        if i >= 4:  # band columns are >= ceil(2i/3) >= 3 here: every pattern's origin is inside the matrix
            # views shifted so that element q stands for interleaved column lo * K + q
            a, b = lo * size, (hi + 1) * size
            out, c, c_left = g0[a:b], c0[a:b], c0[a - size:b - size]
            diag = g1[a - size:b - size]
            g23, c12 = g2[a - 3 * size:b - 3 * size], c1[a - 2 * size:b - 2 * size]
            g32, c21, c10 = g3[a - 2 * size:b - 2 * size], c2[a - size:b - size], c1[a:b]
            for q in range(out.shape[0]):
                cq = c[q]
                best = diag[q] + 2.0 * cq
                best = min(best, g23[q] + 2.0 * c12[q] + 2.0 * c_left[q] + cq)
                out[q] = min(best, g32[q] + 2.0 * c21[q] + 2.0 * c10[q] + cq)
        else:
            for j in range(lo, hi + 1):
                for k in range(size):
                    q = j * size + k
                    cq = c0[q]
                    best = g1[q - size] + 2.0 * cq
                    if i >= 2 and j >= 3:
                        best = min(best, g2[q - 3 * size] + 2.0 * c1[q - 2 * size] + 2.0 * c0[q - size] + cq)
                    if i >= 3 and j >= 2:
                        best = min(best, g3[q - 2 * size] + 2.0 * c2[q - size] + 2.0 * c1[q] + cq)
                    g0[q] = best
    for k in range(size):
        totals[k] = g[n1 % 4, m1 * size + k]


@numba.njit(cache=True, nogil=True)
def _s2_total(cost: np.ndarray, n: int, m: int) -> float:
    """symmetric2 total cost of one pair from its (n, m) frame costs."""
    row = np.empty(m)
    c = cost[0]
    row[0] = c[0]
    for j in range(1, m):
        row[j] = row[j - 1] + c[j]
    for i in range(1, n):
        c = cost[i]
        diag = row[0]  # g(i-1, j-1) for the next column
        left = row[0] + c[0]  # g(i, j-1) for the next column
        row[0] = left
        for j in range(1, m):
            cj = c[j]
            up = row[j]  # g(i-1, j)
            left = min(diag + 2.0 * cj, left + cj, up + cj)
            row[j] = left
            diag = up
    return row[m - 1]


@numba.njit(cache=True, nogil=True)
def _s2_group(cost: np.ndarray, n: int, m: int, size: int, totals: np.ndarray) -> None:
    """symmetric2 total costs of K = ``size`` pairs from their interleaved (n, m * K) frame costs into
    ``totals`` (K,) (always finite)."""
    if size == 1:
        totals[0] = _s2_total(cost, n, m)
        return
    row = np.empty(m * size)  # g(i, .) of the K pairs, interleaved
    diag = np.empty(size)
    c = cost[0]
    for k in range(size):
        row[k] = c[k]
    for j in range(1, m):
        for k in range(size):
            row[j * size + k] = row[(j - 1) * size + k] + c[j * size + k]
    for i in range(1, n):
        c = cost[i]
        for k in range(size):
            diag[k] = row[k]  # g(i-1, j-1) for the next column
            row[k] += c[k]
        for j in range(1, m):
            left, here, cj = row[(j - 1) * size:j * size], row[j * size:(j + 1) * size], c[j * size:(j + 1) * size]
            for k in range(size):
                ck = cj[k]
                up = here[k]  # g(i-1, j)
                here[k] = min(diag[k] + 2.0 * ck, left[k] + ck, up + ck)  # g(i-1, j-1), g(i, j-1), g(i-1, j)
                diag[k] = up
    for k in range(size):
        totals[k] = row[(m - 1) * size + k]


@numba.njit(cache=True, nogil=True)  # (not parallel: idle OpenMP threads spin after a parallel loop)
def _centre_rows(f64: np.ndarray, rows: np.ndarray, center: np.ndarray, c32: np.ndarray, sq: np.ndarray) -> float:
    """``c32[i] = f64[rows[i]] - center`` (float32) and ``sq[i]`` its squared norm in float64, for i < R; returns
    the largest absolute value of the centred frames (float64)."""
    reach = 0.0
    for i in range(rows.shape[0]):
        total = 0.0
        for k in range(f64.shape[1]):
            value = f64[rows[i], k] - center[k]
            c32[i, k] = value
            total += value * value
            reach = max(reach, abs(value))
        sq[i] = total
    return reach


@numba.njit(cache=True, parallel=True)
def _dtw_groups(x64: np.ndarray, x32: np.ndarray, x_sq: np.ndarray, x_off: np.ndarray, x_len: np.ndarray,
                y64: np.ndarray, y32: np.ndarray, y_sq: np.ndarray, y_src: np.ndarray, grp_frame: np.ndarray,
                grp_len: np.ndarray, grp_size: np.ndarray, grp_first: np.ndarray, item_x: np.ndarray,
                item_g: np.ndarray, base: np.ndarray, stride: np.ndarray, blk: np.ndarray, pattern: int,
                fallback: bool, result: np.ndarray) -> None:
    """Normalised DTW of query ``item_x[t]`` against every sequence of gallery group ``item_g[t]``, written into
    ``result[item_x[t], grp_first[g]:grp_first[g] + grp_size[g]]`` (``result``: (Q, G)), for every item t.

    Queries: ``x64`` (Fq, d) original and ``x32`` (Fq, d) centred float32 frames back to back, ``x_sq`` (Fq,)
    squared norms of the centred frames; sequence a at ``x_off[a]`` with ``x_len[a]`` frames. Gallery, interleaved
    by group (group g: ``grp_size[g]`` sequences of ``grp_len[g]`` frames from interleaved frame ``grp_frame[g]``):
    ``y32`` (Fg, d), ``y_sq`` (Fg,), ``y_src`` (Fg,) the row of ``y64`` (Fg, d, original frames) each came from.
    ``blk``: float32 squared distances from matrix products; item t's (n, m * K) block starts at ``base[t]``
    with row stride ``stride[t]``; ``base[t] = -1``: none (symmetricP2 bands are then computed here).
    """
    for t in numba.prange(item_x.shape[0]):
        a = item_x[t]
        grp = item_g[t]
        n = x_len[a]
        m = grp_len[grp]
        size = grp_size[grp]
        first = grp_first[grp]
        totals = np.empty(size)
        p2 = pattern == _P2 and _p2_admissible(n, m)
        if pattern == _P2 and not p2 and not fallback:
            totals[:] = np.inf
        else:
            cost = _group_costs(x64, x32, x_sq, x_off[a], n, y64, y32, y_sq, y_src, grp_frame[grp], m, size, p2,
                                blk, base[t], stride[t])
            if p2:
                _p2_group(cost, n, m, size, totals)
            else:
                _s2_group(cost, n, m, size, totals)
        for k in range(size):
            result[a, first + k] = totals[k] / (n + m)


# ------------------------------------------------------------------------------------------------ python API
def _as_sequences(seqs: Sequence[np.ndarray], what: str) -> list[np.ndarray]:
    if isinstance(seqs, np.ndarray) and seqs.ndim == 2:
        raise ValueError(f'{what}: expected a list of (T, d) arrays, got one array of shape {seqs.shape}; '
                         'wrap a single sequence in a list')
    out = []
    for index, seq in enumerate(seqs):
        arr = np.asarray(seq, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError(f'{what}[{index}]: expected shape (T, d), got {arr.shape}')
        if arr.shape[0] == 0:
            raise ValueError(f'{what}[{index}]: empty sequence (no frames)')
        if not np.isfinite(arr).all():
            raise ValueError(f'{what}[{index}]: non-finite values (NaN or inf) in the features')
        out.append(arr)
    if out and len({a.shape[1] for a in out}) != 1:
        raise ValueError(f'{what}: sequences have different feature dimensions {sorted({a.shape[1] for a in out})}')
    return out


def _pack_frames(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames back to back (F, d) float64, offsets (S,) and lengths (S,)."""
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    offsets = np.zeros(len(seqs), dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    return np.ascontiguousarray(np.concatenate(seqs, axis=0)), offsets, lengths


def _pack(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frames back to back (F, d) float64, their squared norms (F,), offsets (S,) and lengths (S,)."""
    frames, offsets, lengths = _pack_frames(seqs)
    return frames, np.einsum('ij,ij->i', frames, frames), offsets, lengths


class _Frames:
    """S sequences packed back to back for :func:`pairwise_dtw` (``center`` must be set before use).

    Attributes:
        f64 (np.ndarray): (F, d) original frames, float64 (for the direct recomputation).
        off (np.ndarray): (S,) first frame of each sequence; ``lengths`` (S,) its number of frames.
        c32 (np.ndarray): (F, d) frames minus the centre, float32 (after :meth:`center`).
        sq (np.ndarray): (F,) squared norms of the centred float64 frames (after :meth:`center`).
    """

    def __init__(self, seqs: list[np.ndarray]) -> None:
        self.f64, self.off, self.lengths = _pack_frames(seqs)

    def center(self, center: np.ndarray, rows: np.ndarray | None = None) -> float:
        """Set ``c32`` and ``sq`` from the frames ``f64[rows]`` (all when None) minus ``center`` (d,); returns the
        largest absolute value of the centred frames."""
        rows = np.arange(len(self.f64)) if rows is None else rows
        self.c32 = np.empty((len(rows), self.f64.shape[1]), np.float32)
        self.sq = np.empty(len(rows))
        return _centre_rows(self.f64, rows, center, self.c32, self.sq)

    def end(self, index: int) -> int:
        """One past the last frame of sequence ``index``."""
        return int(self.off[index] + self.lengths[index])


class _Groups(_Frames):
    """Gallery sequences sorted by length, in groups of at most ``_GROUP_MAX`` of equal length, interleaved.

    Attributes:
        f64, off, lengths (np.ndarray): as in :class:`_Frames`, in sequence order.
        c32, sq (np.ndarray): (F, d) centred float32 frames and (F,) squared norms, interleaved: group g's frame j
            of its k-th sequence at ``frame[g] + j * size[g] + k``; ``src`` (F,) the row of ``f64`` it came from.
        first, size, length, frame (np.ndarray): (NG,) per group: first sequence, number of sequences, their
            length, first interleaved frame.
    """

    def __init__(self, seqs: list[np.ndarray]) -> None:
        super().__init__(seqs)
        first, size = [], []
        start = 0
        for index in range(1, len(seqs) + 1):
            if index == len(seqs) or self.lengths[index] != self.lengths[start] or index - start == _GROUP_MAX:
                first.append(start)
                size.append(index - start)
                start = index
        self.first = np.array(first, np.int64)
        self.size = np.array(size, np.int64)
        self.length = self.lengths[self.first]
        self.frame = np.zeros(len(first), np.int64)
        np.cumsum((self.size * self.length)[:-1], out=self.frame[1:])
        self.src = np.concatenate([(self.off[b:b + k][None, :] + np.arange(m)[:, None]).ravel()
                                   for b, k, m in zip(first, size, self.length)])

    def center(self, center: np.ndarray, rows: np.ndarray | None = None) -> float:
        """Set ``c32`` and ``sq``, interleaved."""
        return super().center(center, self.src)

    def end(self, group: int) -> int:  # type: ignore[override]
        """One past the last interleaved frame of ``group``."""
        return int(self.frame[group] + self.size[group] * self.length[group])


def _augmented(c32: np.ndarray, sq: np.ndarray, query: bool) -> np.ndarray:
    """float32 rows whose products are squared distances, ``A @ B = |x|^2 + |y|^2 - 2 x.y``: for the queries
    A (F, d + 2) with rows ``[x, |x|^2, 1]``, for the gallery B (d + 2, F) with columns ``[-2 y, 1, |y|^2]``
    (transposed: BLAS reads it faster, a quarter less time measured)."""
    if query:
        out = np.empty((len(sq), c32.shape[1] + 2), np.float32)
        out[:, :-2], out[:, -2], out[:, -1] = c32, sq, 1.0
        return out
    out = np.empty((c32.shape[1] + 2, len(sq)), np.float32)
    np.multiply(c32.T, -2.0, out=out[:-2])
    out[-2], out[-1] = 1.0, sq
    return out


@functools.lru_cache(maxsize=1)
def _blas_local_threads() -> Callable[[int], int] | None:
    """OpenBLAS's ``openblas_set_num_threads_local`` (>= 0.3.27: the BLAS thread count of the calling thread
    only) from the library bundled with numpy's wheels; None where numpy uses another BLAS."""
    import ctypes
    import glob
    import os
    pattern = os.path.join(os.path.dirname(np.__file__), os.pardir, 'numpy.libs', '*openblas*')
    for path in sorted(glob.glob(pattern)):
        try:
            function = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        function.argtypes, function.restype = [ctypes.c_int], ctypes.c_int
        return function
    return None


class _Products:
    """Squared-distance blocks ``A[r0:r1] @ B[c0:c1].T`` (:func:`_augmented`) by numpy (BLAS) or, with
    ``device``, by torch there.

    numpy: the blocks of a batch are shared among numba's number of threads, each running single-threaded BLAS
    (BLAS's own threads would keep spinning after each product and slow down the numba kernel that follows).
    """

    def __init__(self, x: _Frames, y: _Groups, device: Any) -> None:
        self.device = device
        self.a, self.b = _augmented(x.c32, x.sq, query=True), _augmented(y.c32, y.sq, query=False)
        self._buffer = np.empty(0, np.float32)
        if device is not None:
            import torch
            self.torch = torch
            self.a = torch.from_numpy(self.a).to(device)
            self.b = torch.from_numpy(self.b).to(device)

    def buffer(self, size: int) -> np.ndarray:
        """(size,) float32 for the products, reused across batches (fresh pages cost page faults)."""
        if len(self._buffer) < size:
            self._buffer = np.empty(size, np.float32)
        return self._buffer[:size]

    def _numpy_jobs(self, jobs: list[tuple[int, int, int, int, int]], buffer: np.ndarray) -> None:
        local = _blas_local_threads()
        previous = local(1) if local is not None else None
        try:
            for r0, r1, c0, c1, offset in jobs:
                view = buffer[offset:offset + (r1 - r0) * (c1 - c0)].reshape(r1 - r0, c1 - c0)
                np.matmul(self.a[r0:r1], self.b[:, c0:c1], out=view)
        finally:
            if local is not None:
                local(previous)

    def fill(self, jobs: list[tuple[int, int, int, int, int]], buffer: np.ndarray) -> None:
        """For each job ``(r0, r1, c0, c1, offset)``: the (r1-r0, c1-c0) block, row-major, at ``buffer[offset:]``."""
        if self.device is None:
            workers = numba.get_num_threads() if _blas_local_threads() is not None else 1
            if workers == 1 or len(jobs) < 2:
                self._numpy_jobs(jobs, buffer)
                return
            with ThreadPoolExecutor(workers) as pool:  # numpy releases the GIL in matmul
                list(pool.map(self._numpy_jobs, [jobs[w::workers] for w in range(workers)], [buffer] * workers))
            return
        torch = self.torch
        previous = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision('highest')  # no TF32 / bf16: the error bound needs float32 products
        try:
            with torch.no_grad():
                for r0, r1, c0, c1, offset in jobs:
                    block = self.a[r0:r1] @ self.b[:, c0:c1]
                    buffer[offset:offset + (r1 - r0) * (c1 - c0)] = block.reshape(-1).cpu().numpy()
        finally:
            torch.set_float32_matmul_precision(previous)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of True in the 1-D boolean ``mask``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8)))
    return [(int(start), int(stop)) for start, stop in zip(edges[::2], edges[1::2])]


def _group_chunks(y: _Groups, max_frames: int) -> list[tuple[int, int]]:
    """Consecutive groups ``[g0, g1)`` of at most ``max_frames`` interleaved frames each (at least one group)."""
    chunks, start = [], 0
    for grp in range(1, len(y.size) + 1):
        if grp == len(y.size) or y.end(grp) - y.frame[start] > max_frames:
            chunks.append((start, grp))
            start = grp
    return chunks


class _Batch:
    """Work items (query a, gallery group g) for one call of :func:`_dtw_groups`, and the matrix products they
    read: per query one product for each run of consecutive groups that needs one (numpy), or one product of all
    the batch's queries against the batch's groups ``[g0, g1)`` (torch)."""

    def __init__(self, x: _Frames, y: _Groups, g0: int, g1: int, whole: bool) -> None:
        self.x, self.y, self.g0, self.g1, self.whole = x, y, g0, g1, whole
        self.items_x: list[np.ndarray] = []
        self.items_g: list[np.ndarray] = []
        self.dense: list[np.ndarray] = []
        self.size = 0  # float32 values of the products
        self.count = 0  # items

    def cost(self, a: int, groups: np.ndarray, dense: np.ndarray) -> int:
        """Product values that adding query a with ``groups`` (its ``dense`` ones need a product) would add."""
        if self.whole:
            rows = (self.x.end(a) - int(self.x.off[self.items_x[0][0]])) if self.items_x else int(self.x.lengths[a])
            return rows * (self.y.end(self.g1 - 1) - int(self.y.frame[self.g0])) - self.size
        return int(self.x.lengths[a]) * int((self.y.size[groups[dense]] * self.y.length[groups[dense]]).sum())

    def add(self, a: int, groups: np.ndarray, dense: np.ndarray) -> None:
        self.size += self.cost(a, groups, dense)
        self.items_x.append(np.full(len(groups), a, np.int64))
        self.items_g.append(groups)
        self.dense.append(dense)
        self.count += len(groups)

    def run(self, products: _Products, pattern: int, fallback: bool, result: np.ndarray) -> None:
        """Compute the products, then the DTW of every item into ``result`` (Q, G) (sorted orders)."""
        x, y = self.x, self.y
        item_x, item_g = np.concatenate(self.items_x), np.concatenate(self.items_g)
        base = np.full(len(item_x), -1, np.int64)
        stride = np.zeros(len(item_x), np.int64)
        jobs, size, start = [], 0, 0
        if self.whole:
            r0, r1 = int(x.off[item_x[0]]), x.end(int(item_x[-1]))
            c0, c1 = int(y.frame[self.g0]), y.end(self.g1 - 1)
            jobs.append((r0, r1, c0, c1, 0))
            size = (r1 - r0) * (c1 - c0)
            base[:] = (x.off[item_x] - r0) * (c1 - c0) + y.frame[item_g] - c0
            stride[:] = c1 - c0
        else:
            for groups, dense in zip(self.items_g, self.dense):
                a = int(item_x[start])
                for lo, hi in _runs(dense):
                    c0, c1 = int(y.frame[groups[lo]]), y.end(int(groups[hi - 1]))
                    jobs.append((int(x.off[a]), x.end(a), c0, c1, size))
                    base[start + lo:start + hi] = size + y.frame[groups[lo:hi]] - c0
                    stride[start + lo:start + hi] = c1 - c0
                    size += int(x.lengths[a]) * (c1 - c0)
                start += len(groups)
        buffer = products.buffer(size)
        products.fill(jobs, buffer)
        with numba.parallel_chunksize(1):
            _dtw_groups(x.f64, x.c32, x.sq, x.off, x.lengths, y.f64, y.c32, y.sq, y.src, y.frame, y.length, y.size,
                        y.first, item_x, item_g, base, stride, buffer, pattern, fallback, result)


def _centre_and_scale(x: _Frames, y: _Groups, symmetric: bool) -> float:
    """Centre all frames on their common mean; where they are very large or small, divide them first by a power of
    two that brings them near 1 (exact: float32 then neither over- nor underflows). Distances do not change but
    for that factor, which is returned."""
    frames = [x.f64] if symmetric else [x.f64, y.f64]
    center = sum(f.sum(axis=0) for f in frames) / sum(len(f) for f in frames)
    reach = max(x.center(center), y.center(center))
    if _MIN_REACH <= reach <= _MAX_REACH or reach == 0.0 or not np.isfinite(reach):
        return 1.0
    scale = 2.0 ** round(math.log2(reach))
    for f in (x.f64, y.f64):
        f /= scale
    x.center(center / scale)
    y.center(center / scale)
    return scale


def _all_pairs(x: _Frames, y: _Groups, products: _Products, pattern: int, fallback: bool, symmetric: bool,
               whole: bool, bar: Any) -> np.ndarray:
    """(Q, G) normalised DTW of every query against every gallery sequence (both in their sorted orders; with
    ``symmetric`` only the pairs a <= b, in whole groups, then mirrored), batch by batch (:class:`_Batch`)."""
    num_q, num_g = len(x.lengths), len(y.lengths)
    result = np.full((num_q, num_g), np.inf)
    group_of = np.repeat(np.arange(len(y.size)), y.size)  # gallery index -> its group
    for g0, g1 in _group_chunks(y, _GALLERY_FRAMES):
        batch, pairs = _Batch(x, y, g0, g1, whole), 0
        for a in range(int(y.first[g1 - 1] + y.size[g1 - 1]) if symmetric else num_q):
            groups = np.arange(max(g0, int(group_of[a])) if symmetric else g0, g1)
            pairs_a = int(y.size[groups].sum())
            if pattern == _P2:
                n1, m1 = int(x.lengths[a]) - 1, y.length[groups] - 1
                admissible = 2 * np.maximum(n1, m1) <= 3 * np.minimum(n1, m1)
                if not fallback:
                    groups, admissible = groups[admissible], admissible[admissible]  # the others stay inf
            else:
                admissible = np.zeros(len(groups), bool)
            dense = np.ones(len(groups), bool) if whole else ~admissible  # take a matrix product
            if batch.count and (batch.size + batch.cost(a, groups, dense) > _BUFFER_FLOATS
                                or batch.count + len(groups) > _ITEMS_PER_CALL):
                batch.run(products, pattern, fallback, result)
                if bar is not None:
                    bar.update(pairs)
                batch, pairs = _Batch(x, y, g0, g1, whole), 0
            if len(groups):
                batch.add(a, groups, dense)
            pairs += pairs_a
        if batch.count:
            batch.run(products, pattern, fallback, result)
        if bar is not None:
            bar.update(pairs)
    if symmetric:
        lower = np.tril_indices(num_q, -1)
        result[lower] = result.T[lower]
    return result


def _checked_pairs(queries: Sequence[np.ndarray], gallery: Sequence[np.ndarray] | None,
                   step_pattern: str) -> tuple[Any, bool, list[np.ndarray], list[np.ndarray]]:
    """Validate the arguments of the pairwise functions: (pattern, symmetric, queries, gallery)."""
    if step_pattern not in STEP_PATTERNS:
        raise ValueError(f'unknown step_pattern {step_pattern!r}; expected one of {STEP_PATTERNS}')
    pattern = _P2 if step_pattern == 'symmetricP2' else _S2
    symmetric = gallery is None
    qs = _as_sequences(queries, 'queries')
    gs = qs if symmetric else _as_sequences(gallery, 'gallery')
    if qs and gs and qs[0].shape[1] != gs[0].shape[1]:
        raise ValueError(f'queries have d = {qs[0].shape[1]} but the gallery has d = {gs[0].shape[1]}')
    return pattern, symmetric, qs, gs


def pairwise_dtw(queries: Sequence[np.ndarray], gallery: Sequence[np.ndarray] | None = None,
                 step_pattern: str = 'symmetricP2', fallback: bool = True, progress: bool = False,
                 device: Any = None) -> np.ndarray:
    """Normalised DTW distance between every query and every gallery sequence.

    Args:
        queries (Sequence[np.ndarray]): Q sequences, each ``(len_i, d)``.
        gallery (Sequence[np.ndarray] | None): G sequences, each ``(len_j, d)``. None: the queries themselves;
            DTW with these symmetric patterns is symmetric, so only ``i <= j`` is computed and mirrored.
        step_pattern (str): ``'symmetricP2'`` (default, as the reference) or ``'symmetric2'``.
        fallback (bool): with ``'symmetricP2'``, a pair without an admissible path gets its ``'symmetric2'``
            distance instead of inf (per pair). False keeps inf (the reference's retrieval does this).
        progress (bool): show a tqdm progress bar over the pairs.
        device (str | torch.device | None): None (default): matrix products by numpy (BLAS), symmetricP2 bands
            in the numba kernel. A torch device (``'cuda'``, ``'cpu'``, ...): the squared distances of every pair
            come from float32 torch matrix products on that device (TF32 off); the dynamic programme stays in
            numba on the CPU. The results agree with ``device=None`` to about 1e-6 relative.

    Returns:
        np.ndarray: (Q, G) float64 distances ``total / (len_i + len_j)``; inf where no path (``fallback=False``).

    Raises:
        ValueError: a sequence that is not 2-D, empty, non-finite, or dimensions that differ.
    """
    pattern, symmetric, qs, gs = _checked_pairs(queries, gallery, step_pattern)
    out = np.full((len(qs), len(gs)), np.inf)
    if not qs or not gs:
        return out
    # gallery sorted by length (a query's pairs that need a matrix product are then runs of consecutive groups)
    g_order = np.argsort(np.array([len(s) for s in gs]), kind='stable')
    q_order = g_order if symmetric else np.arange(len(qs))
    x = _Frames([qs[i] for i in q_order])
    y = _Groups([gs[i] for i in g_order])
    scale = _centre_and_scale(x, y, symmetric)
    bar = None
    if progress:
        from tqdm import tqdm
        group_of = np.repeat(np.arange(len(y.size)), y.size)
        total = int((len(gs) - y.first[group_of]).sum()) if symmetric else len(qs) * len(gs)
        bar = tqdm(total=total, desc='DTW pairs', unit='pair')
    result = _all_pairs(x, y, _Products(x, y, device), pattern, fallback, symmetric, device is not None, bar)
    if bar is not None:
        bar.close()
    out[np.ix_(q_order, g_order)] = result * scale
    return out


def pairwise_dtw_percell(queries: Sequence[np.ndarray], gallery: Sequence[np.ndarray] | None = None,
                 step_pattern: str = 'symmetricP2', fallback: bool = True, progress: bool = False) -> np.ndarray:
    """:func:`pairwise_dtw` as it was before the matrix products: every frame cost computed in the kernel from
    float64 dot products (kept as the reference that the tests and ``benchmarks/dtw_speed.py`` compare against).
    Arguments as :func:`pairwise_dtw` (without ``device``).

    Returns:
        np.ndarray: (Q, G) float64 distances ``total / (len_i + len_j)``; inf where no path (``fallback=False``).

    Raises:
        ValueError: a sequence that is not 2-D, empty, non-finite, or dimensions that differ.
    """
    pattern, symmetric, qs, gs = _checked_pairs(queries, gallery, step_pattern)
    out = np.full((len(qs), len(gs)), np.inf)
    if not qs or not gs:
        return out
    xf, x_sq, x_off, x_len = _pack(qs)
    yf, y_sq, y_off, y_len = (xf, x_sq, x_off, x_len) if symmetric else _pack(gs)
    rows = np.arange(len(qs), dtype=np.int64)
    if not progress:
        with numba.parallel_chunksize(_CHUNK):
            _dtw_pairs(xf, x_sq, x_off, x_len, rows, yf, y_sq, y_off, y_len, pattern, fallback, symmetric, out)
    else:
        from tqdm import tqdm
        per_chunk = max(1, _PAIRS_PER_CHUNK // len(gs))
        total = len(qs) * (len(qs) + 1) // 2 if symmetric else len(qs) * len(gs)
        with tqdm(total=total, desc='DTW pairs', unit='pair') as bar:
            for start in range(0, len(qs), per_chunk):
                chunk = rows[start:start + per_chunk]
                with numba.parallel_chunksize(_CHUNK):
                    _dtw_pairs(xf, x_sq, x_off, x_len, chunk, yf, y_sq, y_off, y_len, pattern, fallback,
                               symmetric, out)
                bar.update(sum(len(gs) - int(a) for a in chunk) if symmetric else len(chunk) * len(gs))
    if symmetric:
        lower = np.tril_indices(len(qs), -1)
        out[lower] = out.T[lower]
    return out


def dtw_distance(x: np.ndarray, y: np.ndarray, step_pattern: str = 'symmetricP2', device: Any = None) -> float:
    """Normalised DTW distance between two sequences with Euclidean frame cost (no fallback).

    Equal to dtw-python's ``dtw(x, y, dist_method='euclidean', step_pattern=..., distance_only=True)
    .normalizedDistance`` (which raises where this returns inf).

    Args:
        x (np.ndarray): (N, d) sequence.
        y (np.ndarray): (M, d) sequence.
        step_pattern (str): ``'symmetricP2'`` (default) or ``'symmetric2'``.
        device (str | torch.device | None): as in :func:`pairwise_dtw`.

    Returns:
        float: total cost / (N + M); inf when the step pattern admits no path (symmetricP2 only).
    """
    return float(pairwise_dtw([x], [y], step_pattern=step_pattern, fallback=False, device=device)[0, 0])
