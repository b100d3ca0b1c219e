from __future__ import annotations

import numpy as np
import pytest

from vpd_mm.pose import (COCO17_BONES, COCO17_FLIP_INDEX, COCO17_FLIP_PAIRS,
                         COCO17_NAMES, KEPT_FLIP_INDEX, KEPT_JOINTS,
                         KEPT_NAMES, flip_keypoints)


def test_constants():
    assert len(COCO17_NAMES) == 17
    assert COCO17_NAMES[9] == 'left_wrist' and COCO17_NAMES[16] == 'right_ankle'
    assert COCO17_FLIP_PAIRS[0] == (1, 2) and COCO17_FLIP_PAIRS[-1] == (15, 16)
    assert COCO17_FLIP_INDEX.dtype == np.int64
    np.testing.assert_array_equal(
        COCO17_FLIP_INDEX,
        [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15])
    assert KEPT_JOINTS == (0, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
    assert KEPT_NAMES[0] == 'nose' and KEPT_NAMES[1] == 'left_shoulder'
    assert len(KEPT_NAMES) == 13
    np.testing.assert_array_equal(
        KEPT_FLIP_INDEX, [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11])
    assert len(COCO17_BONES) == 14 and (0, 6) in COCO17_BONES
    # names swap consistently under the flip index
    for i, j in enumerate(KEPT_FLIP_INDEX):
        a, b = KEPT_NAMES[i], KEPT_NAMES[j]
        assert a.replace('left', 'X').replace('right', 'left').replace(
            'X', 'right') == b


def test_flip_keypoints_involution_and_swap():
    rng = np.random.default_rng(0)
    kpts = rng.uniform(0, 640, size=(3, 17, 2))
    once = flip_keypoints(kpts)
    np.testing.assert_array_equal(flip_keypoints(once), kpts)
    # left wrist (9) <-> right wrist (10), x -> -x, y untouched
    np.testing.assert_array_equal(once[:, 9, 0], -kpts[:, 10, 0])
    np.testing.assert_array_equal(once[:, 9, 1], kpts[:, 10, 1])
    np.testing.assert_array_equal(once[:, 10, 0], -kpts[:, 9, 0])
    np.testing.assert_array_equal(once[:, 0], kpts[:, 0] * [-1, 1])

    ints = rng.integers(0, 640, size=(4, 17, 2)).astype(np.float64)
    twice = flip_keypoints(flip_keypoints(ints, width=640), width=640)
    np.testing.assert_array_equal(twice, ints)


def test_flip_keypoints_width_and_scores():
    kpts = np.zeros((17, 3))
    kpts[9] = [100.0, 50.0, 0.9]   # left wrist
    kpts[10] = [300.0, 60.0, 0.2]  # right wrist
    out = flip_keypoints(kpts, width=640)
    np.testing.assert_array_equal(out[9], [340.0, 60.0, 0.2])
    np.testing.assert_array_equal(out[10], [540.0, 50.0, 0.9])
    assert out.shape == (17, 3)
    np.testing.assert_array_equal(kpts[9], [100.0, 50.0, 0.9])  # not in place


@pytest.mark.parametrize('shape', [(16, 2), (17, 3, 2), (17,)])
def test_flip_keypoints_bad_shape(shape):
    with pytest.raises(ValueError, match=r'\(\.\.\., 17, 2\)'):
        flip_keypoints(np.zeros(shape))
