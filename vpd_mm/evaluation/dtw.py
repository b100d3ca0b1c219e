"""Dynamic time warping between feature sequences: batched, numba-parallel, Euclidean frame cost.

The step patterns are those of dtw-python (Giorgino 2009) that the reference uses (spec §6.5, §7):

- ``'symmetricP2'``: Sakoe-Chiba slope constraint P = 2. The cumulative cost ``g`` of cell ``(i, j)`` is the
  smallest of ``g(i-1, j-1) + 2 d(i, j)``, ``g(i-2, j-3) + 2 d(i-1, j-2) + 2 d(i, j-1) + d(i, j)`` and
  ``g(i-3, j-2) + 2 d(i-2, j-1) + 2 d(i-1, j) + d(i, j)``: the path's slope stays between 2/3 and 3/2, so two
  sequences whose lengths differ too much have no admissible path.
- ``'symmetric2'``: ``g(i-1, j-1) + 2 d(i, j)``, ``g(i, j-1) + d(i, j)``, ``g(i-1, j) + d(i, j)``; always a path.

Both start with ``g(0, 0) = d(0, 0)``, fix both endpoints, use no window, and normalise the total cost by
``N + M`` (dtw-python's ``normalizedDistance``). ``d`` is the Euclidean distance between frames (not squared).

How :func:`pairwise_dtw` computes the frame costs. All frames are centred on their common mean (distances do not
change; the norms shrink, which makes the expansion below more accurate) and rounded to float32. The squared
distance of frames ``x`` and ``y`` is ``|x|^2 + |y|^2 - 2 x.y``:

- for the pairs that need their whole cost matrix (``'symmetric2'``, and the ``'symmetricP2'`` pairs without an
  admissible path that the fallback sends to symmetric2) it comes from one float32 matrix product per query and
  run of gallery sequences (numpy/BLAS, or torch on any device with ``device=...``): the rows are augmented to
  ``[x, |x|^2, 1]`` and ``[-2 y, 1, |y|^2]``, so the product is the squared distance itself;
- for the ``'symmetricP2'`` pairs with a path only the band of cells that an admissible path can pass is read
  (about a fifth of the matrix for sequences of equal length, less for unequal ones); numpy computes these dot
  products in the numba kernel (float32, four query frames at a time), because a full matrix product would
  compute five times as many cells. With ``device=...`` they come from the torch product like the others.

A squared distance from the expansion at or below ``_REL32`` times ``|x|^2 + |y|^2`` (near frames, where float32
rounding of the expansion matters) is recomputed as a direct float64 sum of squares of the original frames; so
no negative value reaches the square root, and every frame cost has a relative error below about 5e-6 (the
measured float32 error of the expansion is below 1e-6 of ``|x|^2 + |y|^2``), hence so has every DTW distance.
The dynamic programme runs in float64 in numba, in parallel over pairs (``prange``; kernels cached on disk).

The previous implementation, which computes every cost in the kernel from float64 dot products, is kept as
:func:`pairwise_dtw_percell`: the tests compare the two, and ``benchmarks/dtw_speed.py`` times both.

dtw-python is used by the tests as the oracle and by ``benchmarks/dtw_speed.py`` as the baseline; this module
does not import it.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

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
# pairwise_dtw: pairs per call of the numba kernel, float32 values of the matrix products per call, gallery frames
# per matrix product.
_PAIRS_PER_CALL = 20000
_BUFFER_FLOATS = 1 << 23
_GALLERY_FRAMES = 1 << 16
# Columns next to a symmetricP2 band row that later rows may read (the band edges move by at most 2 per row).
_P2_PAD = 4
# Pairs a thread takes at a time in pairwise_dtw's kernel.
_CHUNK_NEW = 16


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
@numba.njit(cache=True, nogil=True)
def _exact_sq(xf: np.ndarray, xi: int, yf: np.ndarray, yj: int) -> float:
    """Squared Euclidean distance of frames ``xf[xi]`` and ``yf[yj]``, a direct float64 sum of squares."""
    sq = 0.0
    for k in range(xf.shape[1]):
        diff = xf[xi, k] - yf[yj, k]
        sq += diff * diff
    return sq


@numba.njit(cache=True, nogil=True)
def _finish_row(row: np.ndarray, x_sq_i: float, y_sq: np.ndarray, xf: np.ndarray, xi: int, yf: np.ndarray,
                yj: int) -> None:
    """``row`` (W,): squared distances from the expansion of frame ``xi`` against frames ``yj .. yj+W-1`` ->
    Euclidean frame costs, in place.

    A value at or below ``_REL32 (|x|^2 + |y|^2)`` (``x_sq_i``, ``y_sq`` (W,): squared norms of the centred
    frames) is recomputed from the original float64 frames ``xf[xi]`` and ``yf[yj + k]``; negative values of the
    expansion are among them, and the rest is clamped at 0 before the square root all the same. (Loops over
    ``range(W)`` on views: indices numba knows to be non-negative, so the loops vectorise.)
    """
    bad = 0
    for k in range(row.shape[0]):
        if row[k] <= _REL32 * (x_sq_i + y_sq[k]):
            bad += 1
    if bad:
        for k in range(row.shape[0]):
            if row[k] <= _REL32 * (x_sq_i + y_sq[k]):
                row[k] = _exact_sq(xf, xi, yf, yj + k)
    for k in range(row.shape[0]):
        row[k] = math.sqrt(max(row[k], 0.0))


@numba.njit(cache=True, nogil=True, fastmath=_FAST)  # not inline: inlined code would lose the fast-math flags
def _sq32_rows(x32: np.ndarray, x_sq: np.ndarray, xo: int, y32: np.ndarray, y_sq: np.ndarray, yo: int, r0: int,
               r1: int, j_lo: int, j_hi: int, sq: np.ndarray) -> None:
    """``sq[r, j] = |x|^2 + |y|^2 - 2 x.y`` of frames ``x32[xo + r]``, ``y32[yo + j]`` for r in [r0, r1), j in
    [j_lo, j_hi]: float32 dot products, four rows at a time (each gallery frame loaded once per four query
    frames); ``x_sq``, ``y_sq``: float64 squared norms."""
    dim = x32.shape[1]
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
    while r < r1:
        xi = xo + r
        for j in range(j_lo, j_hi + 1):
            yj = yo + j
            s0 = np.float32(0.0)
            for k in range(dim):
                s0 += x32[xi, k] * y32[yj, k]
            sq[r, j] = x_sq[xi] + y_sq[yj] - 2.0 * np.float64(s0)
        r += 1


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


@numba.njit(cache=True, nogil=True)
def _pair_costs(x64: np.ndarray, x32: np.ndarray, x_sq: np.ndarray, xo: int, n: int, y64: np.ndarray,
                y32: np.ndarray, y_sq: np.ndarray, yo: int, m: int, p2: bool, blk: np.ndarray, base: int,
                stride: int) -> np.ndarray:
    """(n, m) float64 frame costs of x = frames ``xo:xo+n`` against y = frames ``yo:yo+m``, in the cells the
    recursion reads (:func:`_cost_columns`; the others are left undefined).

    ``base >= 0``: the squared distances are ``blk[base + r * stride + j]`` (a matrix product); otherwise they are
    computed here from the float32 frames ``x32``, ``y32`` (blocks of four rows on the columns all four read).
    """
    lo, hi = _cost_columns(n, m, p2)
    cost = np.empty((n, m))
    if base >= 0:
        for r in range(n):
            start = base + r * stride
            dst = cost[r, lo[r]:hi[r] + 1]
            src = blk[start + lo[r]:start + hi[r] + 1]
            for k in range(dst.shape[0]):
                dst[k] = src[k]
    else:
        for r0 in range(0, n, 4):
            r1 = min(r0 + 4, n)
            common_lo, common_hi = lo[r1 - 1], hi[r0]
            if r1 - r0 == 4 and common_lo <= common_hi:
                _sq32_rows(x32, x_sq, xo, y32, y_sq, yo, r0, r1, common_lo, common_hi, cost)
                for r in range(r0, r1):
                    _sq32_rows(x32, x_sq, xo, y32, y_sq, yo, r, r + 1, lo[r], min(hi[r], common_lo - 1), cost)
                    _sq32_rows(x32, x_sq, xo, y32, y_sq, yo, r, r + 1, max(lo[r], common_hi + 1), hi[r], cost)
            else:
                for r in range(r0, r1):
                    _sq32_rows(x32, x_sq, xo, y32, y_sq, yo, r, r + 1, lo[r], hi[r], cost)
    for r in range(n):
        j0, j1 = yo + lo[r], yo + hi[r] + 1
        _finish_row(cost[r, lo[r]:hi[r] + 1], x_sq[xo + r], y_sq[j0:j1], x64, xo + r, y64, j0)
    return cost


@numba.njit(cache=True, nogil=True)
def _p2_total(cost: np.ndarray, n: int, m: int) -> float:
    """symmetricP2 total cost from the (n, m) frame costs (a path must exist: :func:`_p2_admissible`).

    Only the band cells are evaluated (:func:`_p2_band`); the cumulative costs live in four rows reused in turn,
    each reset to inf before it takes a new row, so that reads outside a row's band see inf.
    """
    n1, m1 = n - 1, m - 1
    inf = np.inf
    g = np.full((4, m), inf)
    g[0, 0] = cost[0, 0]
    for i in range(1, n):
        lo, hi = _p2_band(i, n1, m1)
        lo, hi = max(lo, 1), min(hi, m1)
        g0 = g[i % 4]
        g1 = g[(i - 1) % 4]
        g2 = g[(i - 2) % 4]
        g3 = g[(i - 3) % 4]
        # the row this slot held (i - 4) is not read again; the reads of this row's neighbours fall at most
        # _P2_PAD columns outside its band: set those to inf
        for j in range(max(lo - _P2_PAD, 0), lo):
            g0[j] = inf
        for j in range(hi + 1, min(hi + 1 + _P2_PAD, m)):
            g0[j] = inf
        c0 = cost[i]
        c1 = cost[i - 1]
        c2 = cost[max(i - 2, 0)]
        if i >= 4:  # band columns are >= ceil(2i/3) >= 3 here: every pattern's origin is inside the matrix
            # views shifted so that element k stands for column lo + k (non-negative indices: vectorises)
            out, c, c_left = g0[lo:hi + 1], c0[lo:hi + 1], c0[lo - 1:hi]
            diag = g1[lo - 1:hi]
            g23, c12 = g2[lo - 3:hi - 2], c1[lo - 2:hi - 1]
            g32, c21, c10 = g3[lo - 2:hi - 1], c2[lo - 1:hi], c1[lo:hi + 1]
            for k in range(out.shape[0]):
                ck = c[k]
                best = diag[k] + 2.0 * ck
                other = g23[k] + 2.0 * c12[k] + 2.0 * c_left[k] + ck
                best = other if other < best else best  # not min(): numba's min() does not vectorise
                other = g32[k] + 2.0 * c21[k] + 2.0 * c10[k] + ck
                out[k] = other if other < best else best
        else:
            for j in range(lo, hi + 1):
                c = c0[j]
                best = g1[j - 1] + 2.0 * c
                if i >= 2 and j >= 3:
                    best = min(best, g2[j - 3] + 2.0 * c1[j - 2] + 2.0 * c0[j - 1] + c)
                if i >= 3 and j >= 2:
                    best = min(best, g3[j - 2] + 2.0 * c2[j - 1] + 2.0 * c1[j] + c)
                g0[j] = best
    return g[n1 % 4, m1]


@numba.njit(cache=True, nogil=True)
def _s2_total(cost: np.ndarray, n: int, m: int) -> float:
    """symmetric2 total cost from the (n, m) frame costs (always finite)."""
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


@numba.njit(cache=True, parallel=True)
def _dtw_pair_list(x64: np.ndarray, x32: np.ndarray, x_sq: np.ndarray, x_off: np.ndarray, x_len: np.ndarray,
                   y64: np.ndarray, y32: np.ndarray, y_sq: np.ndarray, y_off: np.ndarray, y_len: np.ndarray,
                   pair_x: np.ndarray, pair_y: np.ndarray, base: np.ndarray, stride: np.ndarray, blk: np.ndarray,
                   pattern: int, fallback: bool, out: np.ndarray) -> None:
    """Normalised DTW of query ``pair_x[p]`` and gallery ``pair_y[p]`` into ``out[p]``, for every p (P pairs).

    ``x64`` (Fq, d) original and ``x32`` (Fq, d) centred float32 frames back to back, ``x_sq`` (Fq,) squared norms
    of the centred frames, sequence a at ``x_off[a]`` with ``x_len[a]`` frames; the same for the gallery. ``blk``
    (B,) float32 squared distances from matrix products: those of pair p start at ``base[p]`` with row stride
    ``stride[p]``; ``base[p] = -1``: the pair's band is computed in the kernel (symmetricP2 pairs with a path).
    """
    for p in numba.prange(pair_x.shape[0]):
        a = pair_x[p]
        b = pair_y[p]
        n = x_len[a]
        m = y_len[b]
        p2 = pattern == _P2 and _p2_admissible(n, m)
        if pattern == _P2 and not p2 and not fallback:
            out[p] = np.inf
            continue
        cost = _pair_costs(x64, x32, x_sq, x_off[a], n, y64, y32, y_sq, y_off[b], m, p2, blk, base[p], stride[p])
        total = _p2_total(cost, n, m) if p2 else _s2_total(cost, n, m)
        out[p] = total / (n + m)


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


def _pack(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Frames back to back (F, d) float64, their squared norms (F,), offsets (S,) and lengths (S,)."""
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    offsets = np.zeros(len(seqs), dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    frames = np.ascontiguousarray(np.concatenate(seqs, axis=0))
    return frames, np.einsum('ij,ij->i', frames, frames), offsets, lengths


class _Frames:
    """S sequences packed for :func:`pairwise_dtw`.

    Attributes:
        f64 (np.ndarray): (F, d) original frames back to back, float64 (for the direct recomputation).
        c32 (np.ndarray): (F, d) frames minus ``center``, float32.
        sq (np.ndarray): (F,) squared norms of the centred float64 frames.
        off (np.ndarray): (S,) first frame of each sequence; ``lengths`` (S,) its number of frames.
    """

    def __init__(self, seqs: list[np.ndarray], center: np.ndarray) -> None:
        self.f64, _, self.off, self.lengths = _pack(seqs)
        centred = self.f64 - center
        self.sq = np.einsum('ij,ij->i', centred, centred)
        self.c32 = centred.astype(np.float32)

    def end(self, index: int) -> int:
        """One past the last frame of sequence ``index``."""
        return int(self.off[index] + self.lengths[index])

    def augmented(self, query: bool) -> np.ndarray:
        """(F, d + 2) float32 rows whose products are squared distances: ``[x, |x|^2, 1]`` for the queries,
        ``[-2 y, 1, |y|^2]`` for the gallery, so that ``A @ B.T = |x|^2 + |y|^2 - 2 x.y``."""
        ones = np.ones((len(self.sq), 1), np.float32)
        sq = self.sq[:, None].astype(np.float32)
        if query:
            return np.ascontiguousarray(np.concatenate([self.c32, sq, ones], axis=1))
        return np.ascontiguousarray(np.concatenate([-2.0 * self.c32, ones, sq], axis=1))


class _Products:
    """Squared-distance blocks ``A[r0:r1] @ B[c0:c1].T`` by numpy (BLAS) or, with ``device``, by torch there."""

    def __init__(self, x: _Frames, y: _Frames, device: Any) -> None:
        self.device = device
        self.a, self.b = x.augmented(query=True), y.augmented(query=False)
        if device is not None:
            import torch
            self.torch = torch
            self.a = torch.from_numpy(self.a).to(device)
            self.b = torch.from_numpy(self.b).to(device)

    def fill(self, jobs: list[tuple[int, int, int, int, int]], buffer: np.ndarray) -> None:
        """For each job ``(r0, r1, c0, c1, offset)``: the (r1-r0, c1-c0) block, row-major, at ``buffer[offset:]``."""
        if self.device is None:
            for r0, r1, c0, c1, offset in jobs:
                view = buffer[offset:offset + (r1 - r0) * (c1 - c0)].reshape(r1 - r0, c1 - c0)
                np.matmul(self.a[r0:r1], self.b[c0:c1].T, out=view)
            return
        torch = self.torch
        previous = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision('highest')  # no TF32 / bf16: the error bound needs float32 products
        try:
            with torch.no_grad():
                for r0, r1, c0, c1, offset in jobs:
                    block = self.a[r0:r1] @ self.b[c0:c1].T
                    buffer[offset:offset + (r1 - r0) * (c1 - c0)] = block.reshape(-1).cpu().numpy()
        finally:
            torch.set_float32_matmul_precision(previous)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of True in the 1-D boolean ``mask``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8)))
    return [(int(start), int(stop)) for start, stop in zip(edges[::2], edges[1::2])]


def _gallery_chunks(lengths: np.ndarray, max_frames: int) -> list[tuple[int, int]]:
    """Consecutive ``[b0, b1)`` of at most ``max_frames`` frames each (at least one sequence)."""
    chunks, start, frames = [], 0, 0
    for index, length in enumerate(lengths):
        if index > start and frames + length > max_frames:
            chunks.append((start, index))
            start, frames = index, 0
        frames += int(length)
    chunks.append((start, len(lengths)))
    return chunks


def _run_chunk(x: _Frames, y: _Frames, products: _Products, plans: list[tuple[int, np.ndarray, np.ndarray]],
               b0: int, b1: int, pattern: int, fallback: bool, result: np.ndarray) -> int:
    """DTW of the pairs in ``plans`` (query a, its gallery indices (K,), which of them take a matrix product (K,));
    returns the number of pairs. Products: one per query and run of gallery sequences (numpy), or one for all
    queries of the chunk against gallery ``[b0, b1)`` (torch)."""
    jobs, size = [], 0
    pair_x, pair_y, base, stride = [], [], [], []
    if products.device is not None:
        r0, r1 = int(x.off[plans[0][0]]), x.end(plans[-1][0])
        c0, c1 = int(y.off[b0]), y.end(b1 - 1)
        jobs.append((r0, r1, c0, c1, 0))
        size = (r1 - r0) * (c1 - c0)
    for a, bs, dense in plans:
        a_base = np.full(len(bs), -1, np.int64)
        a_stride = np.zeros(len(bs), np.int64)
        if products.device is not None:
            a_base[:] = (x.off[a] - r0) * (c1 - c0) + y.off[bs] - c0
            a_stride[:] = c1 - c0
        else:
            for start, stop in _runs(dense):
                r0, r1 = int(x.off[a]), x.end(a)
                c0, c1 = int(y.off[bs[start]]), y.end(int(bs[stop - 1]))
                jobs.append((r0, r1, c0, c1, size))
                a_base[start:stop] = size + y.off[bs[start:stop]] - c0
                a_stride[start:stop] = c1 - c0
                size += (r1 - r0) * (c1 - c0)
        pair_x.append(np.full(len(bs), a, np.int64))
        pair_y.append(bs)
        base.append(a_base)
        stride.append(a_stride)
    buffer = np.empty(size, np.float32)
    products.fill(jobs, buffer)
    px, py = np.concatenate(pair_x), np.concatenate(pair_y)
    out = np.empty(len(px))
    with numba.parallel_chunksize(_CHUNK_NEW):
        _dtw_pair_list(x.f64, x.c32, x.sq, x.off, x.lengths, y.f64, y.c32, y.sq, y.off, y.lengths, px, py,
                       np.concatenate(base), np.concatenate(stride), buffer, pattern, fallback, out)
    result[px, py] = out
    return len(px)


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
            in the numba kernel. A torch device (``'cuda'``, ``'cpu'``, ...): every pair's squared distances come
            from float32 torch matrix products on that device (TF32 off); the dynamic programme stays in numba.
            The results agree with ``device=None`` to about 1e-6 relative.

    Returns:
        np.ndarray: (Q, G) float64 distances ``total / (len_i + len_j)``; inf where no path (``fallback=False``).

    Raises:
        ValueError: a sequence that is not 2-D, empty, non-finite, or dimensions that differ.
    """
    if step_pattern not in STEP_PATTERNS:
        raise ValueError(f'unknown step_pattern {step_pattern!r}; expected one of {STEP_PATTERNS}')
    pattern = _P2 if step_pattern == 'symmetricP2' else _S2
    symmetric = gallery is None
    qs = _as_sequences(queries, 'queries')
    gs = qs if symmetric else _as_sequences(gallery, 'gallery')
    out = np.full((len(qs), len(gs)), np.inf)
    if not qs or not gs:
        return out
    if qs[0].shape[1] != gs[0].shape[1]:
        raise ValueError(f'queries have d = {qs[0].shape[1]} but the gallery has d = {gs[0].shape[1]}')
    # Gallery sorted by length: the pairs of a query that need a whole matrix are then a few runs of consecutive
    # gallery sequences (too short or too long for a symmetricP2 path), one matrix product each.
    g_order = np.argsort(np.array([len(s) for s in gs]), kind='stable')
    q_order = g_order if symmetric else np.arange(len(qs))
    center = np.concatenate(qs if symmetric else qs + gs, axis=0).mean(axis=0)
    x = _Frames([qs[i] for i in q_order], center)
    y = x if symmetric else _Frames([gs[i] for i in g_order], center)
    products = _Products(x, y, device)
    result = np.full((len(qs), len(gs)), np.inf)  # sorted order
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(qs) * (len(qs) + 1) // 2 if symmetric else len(qs) * len(gs), desc='DTW pairs',
                   unit='pair')
    for b0, b1 in _gallery_chunks(y.lengths, _GALLERY_FRAMES):
        gallery_frames = y.end(b1 - 1) - int(y.off[b0])
        plans: list[tuple[int, np.ndarray, np.ndarray]] = []
        size = pairs = rows = 0
        for a in range(b1 if symmetric else len(qs)):
            bs = np.arange(max(b0, a) if symmetric else b0, b1)
            n = int(x.lengths[a])
            if pattern == _P2:
                n1, m1 = n - 1, y.lengths[bs] - 1
                admissible = 2 * np.maximum(n1, m1) <= 3 * np.minimum(n1, m1)
                if not fallback:
                    bs = bs[admissible]
                dense = ~admissible if fallback else np.zeros(len(bs), bool)
            else:
                dense = np.ones(len(bs), bool)
            if device is not None:
                dense = np.ones(len(bs), bool)
                need = (rows + n) * gallery_frames - size
            else:
                need = n * int(y.lengths[bs[dense]].sum())
            if plans and (size + need > _BUFFER_FLOATS or pairs + len(bs) > _PAIRS_PER_CALL):
                done = _run_chunk(x, y, products, plans, b0, b1, pattern, fallback, result)
                if bar is not None:
                    bar.update(done)
                plans, size, pairs, rows = [], 0, 0, 0
                need = n * (gallery_frames if device is not None else int(y.lengths[bs[dense]].sum()))
            if len(bs):
                plans.append((a, bs, dense))
                size, pairs, rows = size + need, pairs + len(bs), rows + n
        if plans:
            done = _run_chunk(x, y, products, plans, b0, b1, pattern, fallback, result)
            if bar is not None:
                bar.update(done)
    if bar is not None:
        bar.close()
    if symmetric:
        lower = np.tril_indices(len(qs), -1)
        result[lower] = result.T[lower]
    out[np.ix_(q_order, g_order)] = result
    return out


def pairwise_dtw_percell(queries: Sequence[np.ndarray], gallery: Sequence[np.ndarray] | None = None,
                 step_pattern: str = 'symmetricP2', fallback: bool = True, progress: bool = False) -> np.ndarray:
    """:func:`pairwise_dtw` as it was before the matrix products: every frame cost computed in the kernel from
    float64 dot products (kept as the reference that the tests and ``benchmarks/dtw_speed.py`` compare against).

    Args:
        queries (Sequence[np.ndarray]): Q sequences, each ``(len_i, d)``.
        gallery (Sequence[np.ndarray] | None): G sequences, each ``(len_j, d)``. None: the queries themselves;
            DTW with these symmetric patterns is symmetric, so only ``i <= j`` is computed and mirrored.
        step_pattern (str): ``'symmetricP2'`` (default, as the reference) or ``'symmetric2'``.
        fallback (bool): with ``'symmetricP2'``, a pair without an admissible path gets its ``'symmetric2'``
            distance instead of inf (per pair). False keeps inf (the reference's retrieval does this).
        progress (bool): show a tqdm progress bar over the pairs.

    Returns:
        np.ndarray: (Q, G) float64 distances ``total / (len_i + len_j)``; inf where no path (``fallback=False``).

    Raises:
        ValueError: a sequence that is not 2-D, empty, non-finite, or dimensions that differ.
    """
    if step_pattern not in STEP_PATTERNS:
        raise ValueError(f'unknown step_pattern {step_pattern!r}; expected one of {STEP_PATTERNS}')
    pattern = _P2 if step_pattern == 'symmetricP2' else _S2
    symmetric = gallery is None
    qs = _as_sequences(queries, 'queries')
    gs = qs if symmetric else _as_sequences(gallery, 'gallery')
    out = np.full((len(qs), len(gs)), np.inf)
    if not qs or not gs:
        return out
    if qs[0].shape[1] != gs[0].shape[1]:
        raise ValueError(f'queries have d = {qs[0].shape[1]} but the gallery has d = {gs[0].shape[1]}')
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
