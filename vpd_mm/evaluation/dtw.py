"""Dynamic time warping between feature sequences: batched, numba-parallel, Euclidean frame cost.

The step patterns are those of dtw-python (Giorgino 2009) that the reference uses (spec §6.5, §7):

- ``'symmetricP2'``: Sakoe-Chiba slope constraint P = 2. The cumulative cost ``g`` of cell ``(i, j)`` is the
  smallest of ``g(i-1, j-1) + 2 d(i, j)``, ``g(i-2, j-3) + 2 d(i-1, j-2) + 2 d(i, j-1) + d(i, j)`` and
  ``g(i-3, j-2) + 2 d(i-2, j-1) + 2 d(i-1, j) + d(i, j)``: the path's slope stays between 2/3 and 3/2, so two
  sequences whose lengths differ too much have no admissible path.
- ``'symmetric2'``: ``g(i-1, j-1) + 2 d(i, j)``, ``g(i, j-1) + d(i, j)``, ``g(i-1, j) + d(i, j)``; always a path.

Both start with ``g(0, 0) = d(0, 0)``, fix both endpoints, use no window, and normalise the total cost by
``N + M`` (dtw-python's ``normalizedDistance``). ``d`` is the Euclidean distance between frames.

The dynamic programme runs in numba, in parallel over pairs (``prange``; kernels cached on disk). Frame costs are
computed inside the kernel, in float64, from dot products (``|x|^2 + |y|^2 - 2 x.y``, four query frames at a time;
costs so small that this formula would lose precision, i.e. near-duplicate frames, are recomputed as a direct
sum of squares), and only where they are read: for symmetricP2 only the band of cells that an admissible path
can pass (about a fifth of the matrix for sequences of equal length, less for unequal ones). Pairs whose lengths
admit no symmetricP2 path are recognised from the lengths alone (``2 max(N-1, M-1) > 3 min(N-1, M-1)``) and,
with the fallback, get one full symmetric2 pass. A first version that filled the whole cost matrix with one
BLAS matrix product per block of sequences was slower: the band saves more than BLAS gains.

dtw-python is used by the tests as the oracle and by ``benchmarks/dtw_speed.py`` as the baseline; this module
does not import it.
"""
from __future__ import annotations

import math
from typing import Sequence

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
# Pairs a thread takes at a time (dynamic scheduling: a thread slowed down by other jobs on the machine does not
# hold the others up, as numba's default equal split would).
_CHUNK = 64
# Pairs per call of the numba kernel when a progress bar is shown.
_PAIRS_PER_CHUNK = 20000


# ------------------------------------------------------------------------------------------------ numba kernels
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


def pairwise_dtw(queries: Sequence[np.ndarray], gallery: Sequence[np.ndarray] | None = None,
                 step_pattern: str = 'symmetricP2', fallback: bool = True, progress: bool = False) -> np.ndarray:
    """Normalised DTW distance between every query and every gallery sequence.

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


def dtw_distance(x: np.ndarray, y: np.ndarray, step_pattern: str = 'symmetricP2') -> float:
    """Normalised DTW distance between two sequences with Euclidean frame cost (no fallback).

    Equal to dtw-python's ``dtw(x, y, dist_method='euclidean', step_pattern=..., distance_only=True)
    .normalizedDistance`` (which raises where this returns inf).

    Args:
        x (np.ndarray): (N, d) sequence.
        y (np.ndarray): (M, d) sequence.
        step_pattern (str): ``'symmetricP2'`` (default) or ``'symmetric2'``.

    Returns:
        float: total cost / (N + M); inf when the step pattern admits no path (symmetricP2 only).
    """
    return float(pairwise_dtw([x], [y], step_pattern=step_pattern, fallback=False)[0, 0])
