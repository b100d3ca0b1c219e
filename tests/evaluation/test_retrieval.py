"""retrieval_precision on a hand-computed toy ranking."""
from __future__ import annotations

import numpy as np
import pytest

from vpd_mm.evaluation import retrieval_precision
from vpd_mm.evaluation.retrieval import retrieval_ranking

LABELS = [0, 0, 1, 1, 0]
# Diagonal -1: if a query were not excluded it would rank itself first.
DIST = np.array([
    [-1, .10, .20, .30, .40],
    [.10, -1, .50, .60, .05],
    [.20, .50, -1, .15, .70],
    [.30, .60, .15, -1, .80],
    [.40, .05, .70, .80, -1],
])


def test_toy_ranking_by_hand():
    # hits in rank order (query excluded):
    #   q0: 1(L0) 2 3 4(L0) -> 1 0 0 1     q1: 4 0 2 3 -> 1 1 0 0     q2: 3 0 1 4 -> 1 0 0 0
    #   q3: 2 0 1 4 -> 1 0 0 0             q4: 1 0 2 3 -> 1 1 0 0
    assert retrieval_ranking(DIST, 1).tolist() == [4, 0, 2, 3]
    p = retrieval_precision(DIST, LABELS, ks=(1, 2, 4, 10))
    assert p[1] == pytest.approx(1.0)
    assert p[2] == pytest.approx((0.5 + 1 + 0.5 + 0.5 + 1) / 5)  # 0.7; 0.9 if queries were not excluded
    assert p[4] == pytest.approx((2 + 2 + 1 + 1 + 2) / 4 / 5)
    assert p[10] == pytest.approx((2 + 2 + 1 + 1 + 2) / 10 / 5)  # divisor k even with fewer candidates
    assert retrieval_precision(DIST, LABELS, ks=(2,), queries=[2, 3]) == {2: pytest.approx(0.5)}


def test_string_labels_ties_and_inf():
    dist = np.array([[0, 1, 1, np.inf], [1, 0, 2, 3], [1, 2, 0, 3], [np.inf, 3, 3, 0]], dtype=float)
    labels = ['a', 'b', 'a', 'a']
    # q0: tie between 1 and 2 keeps index order (1 first), inf ranks last
    assert retrieval_ranking(dist, 0).tolist() == [1, 2, 3]
    assert retrieval_precision(dist, labels, ks=(1,))[1] == pytest.approx((0 + 0 + 1 + 0) / 4)


def test_bad_input():
    with pytest.raises(ValueError, match='square'):
        retrieval_precision(np.zeros((2, 3)), [0, 1])
    with pytest.raises(ValueError, match='labels'):
        retrieval_precision(np.zeros((2, 2)), [0])
    with pytest.raises(ValueError, match='NaN'):
        retrieval_precision(np.array([[0, np.nan], [1, 0]]), [0, 1])
    with pytest.raises(ValueError, match='ks'):
        retrieval_precision(np.zeros((2, 2)), [0, 1], ks=(0,))
