"""DTWNearestNeighbor: k = 1, majority vote, tie-break, mirrored variants, retry, missing features."""
from __future__ import annotations

import numpy as np
import pytest
from mmaction.registry import MODELS

from vpd_mm.evaluation import DTWNearestNeighbor


def const(value, length=5):
    return np.full((length, 1), float(value))


def test_k1_nearest_and_majority_vote():
    # distances between constant sequences of equal length are proportional to |a - b|
    train = [const(0.0), const(0.1), const(0.4), const(2.0)]
    labels = ['A', 'A', 'B', 'B']
    knn1 = DTWNearestNeighbor(k=1).fit(train, labels)
    knn3 = DTWNearestNeighbor(k=3).fit(train, labels)
    test = [const(0.3)]  # distances .3 (A), .2 (A), .1 (B), 1.7 (B)
    assert knn1.predict(test).tolist() == ['B']  # the nearest item
    assert knn3.predict(test).tolist() == ['A']  # B, A, A: the majority wins


def test_tie_goes_to_the_nearest_class():
    knn = DTWNearestNeighbor(k=2).fit([const(0.0), const(1.0)], [0, 1])
    assert knn.predict([const(0.4), const(0.6)]).tolist() == [0, 1]  # one vote each; the nearer class wins


def test_mirrored_variants_are_items_and_queries():
    t = np.linspace(0, 1, 6)[:, None]
    up = np.stack([t, -t], axis=1)  # (T, 2, 1): original rises, mirrored falls
    flat = np.stack([np.full_like(t, 0.5), np.full_like(t, -0.5)], axis=1)
    knn = DTWNearestNeighbor().fit([up, flat], ['up', 'flat'])
    assert len(knn.items) == 4  # both variants of both training sequences
    query = np.stack([-t, t], axis=1)  # the mirror image of `up`
    dist = knn.distances([query])
    assert dist.shape == (1, 4)
    assert dist[0, 0] == pytest.approx(0.0) and dist[0, 1] == pytest.approx(0.0)
    assert knn.predict([query]).tolist() == ['up']
    # original-only comparison: -t against t and against 0.5
    only = DTWNearestNeighbor(use_mirrored=False).fit([up, flat], ['up', 'flat'])
    assert len(only.items) == 2
    assert only.distances([query])[0, 0] > 0


def test_predict_views_with_explicit_variants():
    knn = DTWNearestNeighbor().fit([const(0.0), const(1.0)], ['a', 'b'])
    # first action: the minimum over its variants is .05 to a and .3 to b
    assert knn.predict_views([[const(0.7), const(0.05)], [const(0.8)]]).tolist() == ['a', 'b']


def test_retry_with_symmetric2_when_no_path_exists():
    # length 10 against length 3: 2*9 > 3*2, no symmetricP2 path to any item
    knn = DTWNearestNeighbor().fit([const(0.0, 10), const(1.0, 10)], ['a', 'b'])
    assert knn.predict([const(0.9, 3)]).tolist() == ['b']
    assert knn.num_retried == 1
    assert np.isfinite(knn.distances([const(0.9, 3)])).all()


def test_missing_features_predict_the_majority_class_and_are_counted():
    knn = DTWNearestNeighbor().fit([const(0.0), const(0.1), const(1.0)], ['a', 'a', 'b'])
    assert knn.predict([None, const(1.0), np.zeros((0, 1))]).tolist() == ['a', 'b', 'a']
    assert knn.num_missing == 2


def test_bad_input_and_registry():
    with pytest.raises(ValueError, match='labels'):
        DTWNearestNeighbor().fit([const(0.0)], ['a', 'b'])
    with pytest.raises(ValueError, match='no frames'):
        DTWNearestNeighbor().fit([None], ['a'])
    with pytest.raises(ValueError, match='k must be'):
        DTWNearestNeighbor(k=0)
    with pytest.raises(RuntimeError, match='before fit'):
        DTWNearestNeighbor().predict([const(0.0)])
    built = MODELS.build(dict(type='DTWNearestNeighbor', k=3))
    assert isinstance(built, DTWNearestNeighbor) and built.k == 3
