"""DTW: hand-computed cost tables, equality with dtw-python (the oracle) and with the previous per-cell
implementation, the torch path, the fallback, bad input. No timing here (benchmarks/dtw_speed.py)."""
from __future__ import annotations

import numpy as np
import pytest

import vpd_mm.evaluation.dtw as dtw_module
from vpd_mm.evaluation import dtw_distance, pairwise_dtw
from vpd_mm.evaluation.dtw import pairwise_dtw_percell

PATTERNS = ('symmetricP2', 'symmetric2')
# pairwise_dtw's contract: float32 products, float64 recomputation of near frames (module docstring)
RTOL = 1e-5


def col(values):
    """1-D sequence as (T, 1)."""
    return np.asarray(values, dtype=np.float64)[:, None]


def dtw_python(x, y, pattern):
    """dtw-python's normalizedDistance; inf where it finds no path."""
    from dtw import dtw, symmetric2, symmetricP2
    step = dict(symmetricP2=symmetricP2, symmetric2=symmetric2)[pattern]
    try:
        return dtw(x, y, dist_method='euclidean', step_pattern=step, distance_only=True).normalizedDistance
    except ValueError:
        return np.inf


def test_symmetric2_hand_computed():
    # cost |x_i - y_j|:  [[0, 2], [1, 1], [2, 0]]
    # g(0,0)=0, g(1,0)=1, g(2,0)=3, g(0,1)=2, g(1,1)=min(0+2*1, 1+1, 2+1)=2, g(2,1)=min(1+2*0, 3+0, 2+0)=1
    x, y = col([0, 1, 2]), col([0, 2])
    assert dtw_distance(x, y, 'symmetric2') == pytest.approx(1 / 5)
    # symmetricP2 needs 2*max(n-1, m-1) <= 3*min(n-1, m-1): 2*2 > 3*1, no path
    assert dtw_distance(x, y) == np.inf


def test_symmetricP2_hand_computed_slope_path():
    # n = m = 6: the admissible paths are the diagonal, (2,3)+(3,2) and (3,2)+(2,3).
    x, y = col([0, 1, 2, 3, 4, 5]), col([0, 1, 2, 2, 3, 5])
    # diagonal: 0 + 2*(d11 + d22 + d33 + d44 + d55) = 2*(0 + 0 + 1 + 1 + 0) = 4
    # (2,3) then (3,2): d00 + 2 d11 + 2 d22 + d23 + 2 d34 + 2 d45 + d55 = 0+0+0+0+0+2*1+0 = 2
    # (3,2) then (2,3): d00 + 2 d11 + 2 d22 + d32 + 2 d43 + 2 d54 + d55 = 0+0+0+1+4+4+0 = 9
    assert dtw_distance(x, y) == pytest.approx(2 / 12)
    # unconstrained: (0,0) (1,1) (2,2) (2,3) (3,4) (4,4) (5,5) costs 1 in total (row 4 costs >= 1 anywhere)
    assert dtw_distance(x, y, 'symmetric2') == pytest.approx(1 / 12)


def test_unique_slope_path_and_euclidean_cost():
    # n=3, m=4: the single admissible path is the (2,3) pattern: d00 + 2 d11 + 2 d22 + d23
    x, y = col([0, 1, 3]), col([0, 2, 2, 5])
    assert dtw_distance(x, y) == pytest.approx((0 + 2 * 1 + 2 * 1 + 2) / 7)
    # Euclidean frame cost in 2-D: one frame each, |(3, 4)| = 5, normalised by 1 + 1
    assert dtw_distance(np.array([[3.0, 4.0]]), np.array([[0.0, 0.0]])) == pytest.approx(2.5)
    # (2, d) against (1, d): no symmetricP2 path; symmetric2 = (5 + 0) / 3
    assert dtw_distance(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[3.0, 4.0]])) == np.inf
    assert dtw_distance(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[3.0, 4.0]]), 'symmetric2') == \
        pytest.approx(5 / 3)


@pytest.mark.parametrize('pattern', ['symmetricP2', 'symmetric2'])
def test_equals_dtw_python_on_random_inputs(pattern):
    rng = np.random.default_rng(7)
    finite = infinite = 0
    for _ in range(60):
        n = int(rng.integers(1, 35))
        m = max(1, int(round(n * rng.uniform(0.5, 2.0))))  # length ratios on both sides of the P2 limit 3/2
        d = int(rng.integers(1, 17))
        x, y = rng.normal(size=(n, d)) * 3, rng.normal(size=(m, d)) * 3
        ours, ref = dtw_distance(x, y, pattern), dtw_python(x, y, pattern)
        if np.isinf(ref):
            infinite += 1
            assert ours == np.inf, (n, m)
        else:
            finite += 1
            assert abs(ours - ref) <= RTOL * ref, (n, m, ours, ref)
    assert finite > 20
    if pattern == 'symmetricP2':
        assert infinite > 5  # the no-path case was exercised


def test_near_duplicate_frames_with_large_norms():
    # |x|^2 + |y|^2 - 2 x.y cancels catastrophically here (norms ~1e6, distances ~1e-6): such costs are
    # recomputed directly, so the result still matches a direct computation (float32 products elsewhere: 1e-6;
    # the per-cell float64 reference: 1e-9)
    rng = np.random.default_rng(5)
    x = 1000.0 + rng.normal(size=(12, 8))
    y = x[::-1][:10] + 1e-6 * rng.normal(size=(10, 8))
    z = x + 1e-7 * rng.normal(size=x.shape)
    for a, b in ((x, y), (x, z), (z, x)):
        for pattern in PATTERNS:
            ref = dtw_python(a, b, pattern)
            assert abs(dtw_distance(a, b, pattern) - ref) <= 1e-6 * ref
            assert abs(dtw_distance(a, b, pattern, device='cpu') - ref) <= 1e-6 * ref
            old = pairwise_dtw_percell([a], [b], pattern, fallback=False)[0, 0]
            assert abs(old - ref) <= 1e-9 * max(1.0, ref)
    assert 0 < dtw_distance(x, z) < 1e-5
    assert dtw_distance(x, x) == 0.0  # the expansion gives about +-1e-3 here: recomputed, and never negative
    assert dtw_distance(x, x, device='cpu') == 0.0


def test_pairwise_fallback_matches_dtw_python_per_pair():
    rng = np.random.default_rng(3)
    queries = [rng.normal(size=(n, 4)).astype(np.float32) for n in (5, 12, 30)]
    gallery = [rng.normal(size=(n, 4)).astype(np.float32) for n in (4, 6, 11, 25, 40)]
    with_fallback = pairwise_dtw(queries, gallery)
    strict = pairwise_dtw(queries, gallery, fallback=False)
    no_path = 0
    for a, x in enumerate(queries):
        for b, y in enumerate(gallery):
            x64, y64 = x.astype(np.float64), y.astype(np.float64)
            p2 = dtw_python(x64, y64, 'symmetricP2')
            if np.isinf(p2):
                no_path += 1
                assert strict[a, b] == np.inf
                assert with_fallback[a, b] == pytest.approx(dtw_python(x64, y64, 'symmetric2'), abs=1e-6)
            else:
                assert strict[a, b] == pytest.approx(p2, abs=1e-6)
                assert with_fallback[a, b] == strict[a, b]
    assert no_path >= 3


def test_pairwise_self_distances_are_symmetric_and_match_full():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, 3)) for n in (6, 8, 9, 7, 12)]
    half = pairwise_dtw(seqs)  # gallery=None: only i <= j computed, then mirrored
    full = pairwise_dtw(seqs, seqs)
    np.testing.assert_allclose(half, full, rtol=1e-6)  # float32 products: x against y, or y against x
    np.testing.assert_array_equal(half, half.T)
    np.testing.assert_allclose(np.diag(half), 0.0, atol=1e-12)
    assert (half[~np.eye(5, dtype=bool)] > 0).all()


def test_progress_bar_gives_the_same_result():
    rng = np.random.default_rng(1)
    seqs = [rng.normal(size=(n, 2)) for n in (5, 6, 7)]
    np.testing.assert_array_equal(pairwise_dtw(seqs, progress=True), pairwise_dtw(seqs))


def test_bad_input():
    good = np.zeros((4, 2))
    with pytest.raises(ValueError, match='non-finite'):
        pairwise_dtw([good], [np.array([[0.0, np.nan]])])
    with pytest.raises(ValueError, match='empty'):
        pairwise_dtw([np.zeros((0, 2))], [good])
    with pytest.raises(ValueError, match='d = 2'):
        pairwise_dtw([good], [np.zeros((3, 5))])
    with pytest.raises(ValueError, match='step_pattern'):
        dtw_distance(good, good, 'itakura')
    with pytest.raises(ValueError, match='list of'):
        pairwise_dtw(good, [good])
    assert pairwise_dtw([], [good]).shape == (0, 1)


# ------------------------------------------------------------------------ matrix products, groups, torch path
def test_hand_computed_3x3_all_paths():
    # cost |x_i - y_j| for x = [0, 1, 3], y = [0, 3, 3]:  [[0, 3, 3], [1, 2, 2], [3, 0, 0]]
    # symmetric2: g(1,1) = min(0 + 2*2, g(1,0) + 2, g(0,1) + 2) = min(4, 1 + 2, 3 + 2) = 3;
    #   g(2,1) = min(g(1,0) + 2*0, g(2,0) + 0, g(1,1) + 0) = min(1, 4, 3) = 1; g(1,2) = min(3 + 4, 3 + 2, 6 + 2) = 5;
    #   g(2,2) = min(g(1,1) + 0, g(2,1) + 0, g(1,2) + 0) = 1  ->  1 / (3 + 3)
    # symmetricP2 on 3 x 3 allows the diagonal only: d00 + 2 d11 + 2 d22 = 0 + 4 + 0 = 4  ->  4 / 6
    x, y = col([0, 1, 3]), col([0, 3, 3])
    expected = {'symmetric2': 1 / 6, 'symmetricP2': 4 / 6}
    for pattern, value in expected.items():
        assert pairwise_dtw([x], [y], pattern)[0, 0] == pytest.approx(value, rel=1e-6)  # float32 products
        assert pairwise_dtw([x], [y], pattern, device='cpu')[0, 0] == pytest.approx(value, rel=1e-6)
        assert pairwise_dtw_percell([x], [y], pattern)[0, 0] == pytest.approx(value, rel=1e-12)
        assert dtw_python(x, y, pattern) == pytest.approx(value, rel=1e-12)
    # the same in 2-D, rotated and shifted: Euclidean, not squared, frame cost
    rot = np.array([[0.6, -0.8], [0.8, 0.6]])
    x2, y2 = np.hstack([x, np.zeros_like(x)]) @ rot + 5.0, np.hstack([y, np.zeros_like(y)]) @ rot + 5.0
    for pattern, value in expected.items():
        assert dtw_distance(x2, y2, pattern) == pytest.approx(value, rel=1e-6)


@pytest.mark.parametrize('d', [1, 64])
@pytest.mark.parametrize('pattern', PATTERNS)
def test_all_paths_equal_dtw_python_and_previous_implementation(pattern, d):
    # unequal lengths on both sides of the symmetricP2 limit 3/2, and repeated lengths (several sequences share a
    # group); float32 features as the corpus stores them
    rng = np.random.default_rng(11 + d)
    lengths_q = [3, 17, 24, 24, 40]
    lengths_g = [1, 2, 5, 12, 16, 24, 24, 24, 30, 36, 41, 60]
    queries = [rng.normal(size=(n, d)).astype(np.float32) for n in lengths_q]
    gallery = [(2.0 + rng.normal(size=(n, d))).astype(np.float32) for n in lengths_g]
    for fallback in (True, False):
        new = pairwise_dtw(queries, gallery, pattern, fallback=fallback)
        torch_cpu = pairwise_dtw(queries, gallery, pattern, fallback=fallback, device='cpu')
        old = pairwise_dtw_percell(queries, gallery, pattern, fallback=fallback)
        for a, x in enumerate(queries):
            for b, y in enumerate(gallery):
                ref = dtw_python(x.astype(np.float64), y.astype(np.float64), pattern)
                if np.isinf(ref) and fallback:
                    ref = dtw_python(x.astype(np.float64), y.astype(np.float64), 'symmetric2')
                for got in (new[a, b], torch_cpu[a, b], old[a, b]):
                    if np.isinf(ref):
                        assert got == np.inf, (a, b)
                    else:
                        assert got == pytest.approx(ref, rel=RTOL), (a, b, fallback)
        np.testing.assert_allclose(new, old, rtol=RTOL)
    assert np.isinf(pairwise_dtw(queries, gallery, pattern, fallback=False)).any() == (pattern == 'symmetricP2')


def test_torch_cpu_path_equals_numpy_path():
    rng = np.random.default_rng(4)
    seqs = [rng.normal(size=(int(n), 64)).astype(np.float32) for n in rng.integers(20, 60, size=30)]
    gallery = seqs[:12]
    for pattern in PATTERNS:
        for fallback in (True, False):
            numpy_path = pairwise_dtw(seqs, gallery, pattern, fallback=fallback)
            torch_path = pairwise_dtw(seqs, gallery, pattern, fallback=fallback, device='cpu')
            np.testing.assert_array_equal(np.isinf(numpy_path), np.isinf(torch_path))
            finite = np.isfinite(numpy_path)
            np.testing.assert_allclose(torch_path[finite], numpy_path[finite], rtol=1e-6)
    np.testing.assert_allclose(pairwise_dtw(seqs, device='cpu'), pairwise_dtw(seqs), rtol=1e-6)


@pytest.mark.skipif(not __import__('torch').cuda.is_available(), reason='no CUDA device')
def test_cuda_path_equals_numpy_path():
    rng = np.random.default_rng(6)
    seqs = [rng.normal(size=(int(n), 64)).astype(np.float32) for n in rng.integers(20, 60, size=30)]
    for pattern in PATTERNS:
        np.testing.assert_allclose(pairwise_dtw(seqs, step_pattern=pattern, device='cuda'),
                                   pairwise_dtw(seqs, step_pattern=pattern), rtol=1e-6)


def test_groups_chunks_and_batches_split_anywhere(monkeypatch):
    # tiny limits: groups of 2, gallery chunks of ~100 frames, batches of a few items and products; and 20
    # sequences of one length (groups split at _GROUP_MAX)
    rng = np.random.default_rng(8)
    seqs = [rng.normal(size=(int(n), 5)) for n in rng.integers(4, 30, size=25)]
    seqs += [rng.normal(size=(13, 5)) for _ in range(20)]
    reference = {(p, g): pairwise_dtw(seqs, None if g else seqs[:30], p) for p in PATTERNS for g in (True, False)}
    monkeypatch.setattr(dtw_module, '_GROUP_MAX', 2)
    monkeypatch.setattr(dtw_module, '_GALLERY_FRAMES', 100)
    monkeypatch.setattr(dtw_module, '_ITEMS_PER_CALL', 5)
    monkeypatch.setattr(dtw_module, '_BUFFER_FLOATS', 2000)
    for (pattern, symmetric), expected in reference.items():
        gallery = None if symmetric else seqs[:30]
        for device in (None, 'cpu'):
            got = pairwise_dtw(seqs, gallery, pattern, device=device)
            np.testing.assert_allclose(got, expected, rtol=1e-6)
            np.testing.assert_allclose(got, pairwise_dtw_percell(seqs, gallery, pattern), rtol=RTOL)


def test_recomputation_keeps_low_dimensional_near_frames_exact():
    # d = 1 and 2: many frame pairs are near (sq below _REL32 (|x|^2 + |y|^2)) and take the float64 route
    rng = np.random.default_rng(9)
    for d in (1, 2):
        seqs = [np.cumsum(rng.normal(size=(int(n), d)), axis=0) for n in rng.integers(10, 40, size=12)]
        for pattern in PATTERNS:
            np.testing.assert_allclose(pairwise_dtw(seqs, step_pattern=pattern),
                                       pairwise_dtw_percell(seqs, step_pattern=pattern), rtol=1e-6)


@pytest.mark.parametrize('scale', [1e-30, 1e30])
def test_extreme_feature_scales(scale):
    # float32 would under- or overflow on these: the frames are scaled by a power of two first
    rng = np.random.default_rng(10)
    seqs = [rng.normal(size=(int(n), 16)) for n in rng.integers(10, 30, size=8)]
    for pattern in PATTERNS:
        expected = pairwise_dtw_percell(seqs, step_pattern=pattern) * scale
        for device in (None, 'cpu'):
            got = pairwise_dtw([s * scale for s in seqs], step_pattern=pattern, device=device)
            np.testing.assert_allclose(got, expected, rtol=1e-6)
