from __future__ import annotations

import warnings

import numpy as np
import pytest

from vpd_mm.pose import (KEPT_FLIP_INDEX, KEPT_JOINTS, flip_keypoints,
                         keypoint_score, normalize_2d, pose2d_feature,
                         valid_mask)

TORSO = (5, 6, 11, 12)


def random_poses(shape=(8, ), seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 500, size=tuple(shape) + (17, 2))


def hand_pose():
    kpts = np.zeros((17, 2))
    kpts[:] = (12.0, 20.0)
    kpts[0] = (12.0, 4.0)     # nose
    kpts[5] = (10.0, 12.0)    # left shoulder
    kpts[6] = (14.0, 12.0)    # right shoulder
    kpts[9] = (6.0, 16.0)     # left wrist
    kpts[11] = (10.0, 20.0)   # left hip
    kpts[12] = (14.0, 20.0)   # right hip
    return kpts


def k(joint):
    """Row of a COCO-17 joint in the 13-joint output."""
    return KEPT_JOINTS.index(joint)


def test_hand_computed():
    out = normalize_2d(hand_pose())
    f = 0.5 / np.sqrt(80.0)  # largest torso distance is the diagonal
    assert out.dtype == np.float32 and out.shape == (13, 2)
    np.testing.assert_allclose(out[k(11)], [-2 * f, 0.0], atol=1e-6)
    np.testing.assert_allclose(out[k(12)], [2 * f, 0.0], atol=1e-6)
    np.testing.assert_allclose(out[k(5)], [-2 * f, -8 * f], atol=1e-6)
    np.testing.assert_allclose(out[k(6)], [2 * f, -8 * f], atol=1e-6)
    np.testing.assert_allclose(out[k(0)], [0.0, -16 * f], atol=1e-6)
    np.testing.assert_allclose(out[k(9)], [-6 * f, -4 * f], atol=1e-6)
    np.testing.assert_allclose(out[k(16)], [0.0, 0.0], atol=1e-6)


def test_largest_torso_distance_is_half():
    kpts = random_poses((20, ))
    out = normalize_2d(kpts, flip=True)
    torso = out[:, [k(j) for j in TORSO]].astype(np.float64)
    d = np.linalg.norm(torso[:, :, None] - torso[:, None, :], axis=-1)
    np.testing.assert_allclose(d.max(axis=(1, 2)), 0.5, atol=1e-6)


def test_zero_scale_uses_one():
    kpts = random_poses((), seed=1)
    kpts[list(TORSO)] = (7.0, 9.0)
    out = normalize_2d(kpts)
    # s = 1, so the factor is 0.5 / 1: half the hip-centred coordinates
    expected = 0.5 * (kpts - [7.0, 9.0])[list(KEPT_JOINTS)]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert np.isfinite(out).all()


def test_flip_consistency():
    kpts = random_poses((6, ), seed=2)
    base = normalize_2d(kpts)
    flipped = normalize_2d(kpts, flip=True)
    manual = base[..., KEPT_FLIP_INDEX, :] * [-1.0, 1.0]
    np.testing.assert_allclose(manual, flipped, atol=1e-6)
    # flipping twice gives back the original
    np.testing.assert_allclose(
        flipped[..., KEPT_FLIP_INDEX, :] * [-1.0, 1.0], base, atol=1e-6)
    for width in (None, 0.0, 640.0, 1920):
        mirrored = flip_keypoints(kpts, width=width)
        np.testing.assert_allclose(normalize_2d(mirrored), flipped, atol=1e-6)


def test_invert():
    kpts = random_poses((5, ), seed=3)
    neg = kpts * [1.0, -1.0]
    inv = normalize_2d(kpts, invert=True)
    np.testing.assert_allclose(inv, normalize_2d(neg), atol=1e-6)
    # no left/right swap: x unchanged, y negated, joint by joint
    base = normalize_2d(kpts)
    np.testing.assert_allclose(inv, base * [1.0, -1.0], atol=1e-6)
    # flip is applied after invert
    np.testing.assert_allclose(
        normalize_2d(kpts, flip=True, invert=True),
        normalize_2d(neg, flip=True), atol=1e-6)


def test_translation_and_scale_invariance():
    kpts = random_poses((7, ), seed=4)
    base = normalize_2d(kpts)
    moved = kpts * 3.7 + np.array([-120.0, 45.5])
    np.testing.assert_allclose(normalize_2d(moved), base, atol=1e-6)
    np.testing.assert_allclose(normalize_2d(kpts * 0.01), base, atol=1e-6)


def test_nan_frames():
    kpts = random_poses((5, ), seed=5)
    kpts[2, 3, 1] = np.nan  # an ear: dropped joint, still invalidates frame
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        out = normalize_2d(kpts, flip=True, invert=True)
        feat = pose2d_feature(kpts)
        mask = valid_mask(kpts)
    assert np.isnan(out[2]).all() and np.isnan(feat[2]).all()
    keep = [0, 1, 3, 4]
    assert np.isfinite(out[keep]).all() and np.isfinite(feat[keep]).all()
    np.testing.assert_array_equal(mask, [True, True, False, True, True])
    np.testing.assert_array_equal(np.isnan(out).any(axis=(1, 2)), ~mask)
    # other frames are unaffected by the NaN frame
    np.testing.assert_array_equal(out[keep],
                                  normalize_2d(kpts[keep], flip=True, invert=True))


def test_nan_hip_and_inf():
    kpts = random_poses((3, ), seed=6)
    kpts[0, 11] = np.nan
    kpts[1, 5, 0] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        out = normalize_2d(kpts)
    assert np.isnan(out[:2]).all() and np.isfinite(out[2]).all()
    np.testing.assert_array_equal(valid_mask(kpts), [False, False, True])


def test_shapes():
    assert normalize_2d(random_poses(())).shape == (13, 2)
    assert normalize_2d(random_poses((4, 3))).shape == (4, 3, 13, 2)
    assert valid_mask(random_poses((4, 3))).shape == (4, 3)
    assert valid_mask(random_poses(())).shape == ()
    kpts = random_poses((4, ))
    with_scores = np.concatenate([kpts, np.full((4, 17, 1), np.nan)], axis=-1)
    np.testing.assert_array_equal(normalize_2d(with_scores), normalize_2d(kpts))
    assert valid_mask(with_scores).all()
    ints = np.round(kpts).astype(np.int64)
    assert normalize_2d(ints).dtype == np.float32


def test_pose2d_feature():
    kpts = random_poses((4, 3))
    feat = pose2d_feature(kpts, flip=True)
    out = normalize_2d(kpts, flip=True)
    assert feat.shape == (4, 3, 26) and feat.dtype == np.float32
    np.testing.assert_array_equal(feat[..., 0], out[..., 0, 0])
    np.testing.assert_array_equal(feat[..., 1], out[..., 0, 1])
    np.testing.assert_array_equal(feat[..., 2], out[..., 1, 0])
    np.testing.assert_array_equal(feat[..., 25], out[..., 12, 1])
    assert pose2d_feature(hand_pose()).shape == (26, )


@pytest.mark.parametrize('shape', [(17, 3, 2), (16, 2), (17, ), (2, 17, 4)])
def test_bad_shape(shape):
    for fn in (normalize_2d, valid_mask, pose2d_feature):
        with pytest.raises(ValueError, match=r'\(\.\.\., 17, 2\)') as err:
            fn(np.zeros(shape))
        assert str(shape) in str(err.value)


def test_keypoint_score():
    scores = np.ones(17)
    scores[1:5] = 0.0  # eyes and ears are not kept
    assert keypoint_score(scores) == pytest.approx(1.0)
    batch = np.stack([scores, np.linspace(0, 1, 17)])
    batch[1, 1:5] = 5.0
    expected = np.linspace(0, 1, 17)[list(KEPT_JOINTS)].mean()
    np.testing.assert_allclose(keypoint_score(batch), [1.0, expected])
    nan = scores.copy()
    nan[9] = np.nan
    assert np.isnan(keypoint_score(nan))
    with pytest.raises(ValueError, match=r'\(\.\.\., 17\)'):
        keypoint_score(np.ones((4, 13)))
