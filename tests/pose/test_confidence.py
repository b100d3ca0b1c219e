"""Score candidates a user can compute without ground truth: mirror agreement, temporal agreement."""
from __future__ import annotations

import numpy as np
import pytest

from vpd_mm.pose import COCO17_FLIP_INDEX, mirror_agreement, temporal_agreement, unmirror_keypoints
from vpd_mm.pose.confidence import AGREEMENT_SCALE, pose_size


def _pose(seed: int = 0, frames: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    k = rng.uniform(20, 100, size=(frames, 17, 2)).astype(np.float32)
    k[:, [5, 6, 11, 12]] = [[40, 40], [60, 40], [40, 80], [60, 80]]  # pose size = |(40,40)-(60,80)| = sqrt(2000)
    return k


def test_unmirror_twice_is_identity_and_swaps_sides():
    k = _pose()
    once = unmirror_keypoints(k, 160)
    np.testing.assert_allclose(once[:, 5, 0], 160 - k[:, 6, 0])  # left shoulder <- mirrored right shoulder
    np.testing.assert_allclose(unmirror_keypoints(once, 160), k, rtol=1e-6)
    assert list(COCO17_FLIP_INDEX[5:7]) == [6, 5]


def test_pose_size_by_hand():
    assert pose_size(_pose())[0] == pytest.approx(np.sqrt(20 ** 2 + 40 ** 2))


def test_mirror_agreement_values():
    k = _pose()
    np.testing.assert_array_equal(mirror_agreement(k, k), 1.0)
    moved = k.copy()
    moved[:, 9, 0] += AGREEMENT_SCALE * np.sqrt(2000)  # one wrist off by exactly `scale` pose sizes
    score = mirror_agreement(k, moved)
    np.testing.assert_allclose(score[:, 9], 0.5, rtol=1e-5)
    assert (np.delete(score, 9, axis=1) == 1.0).all()
    missed = moved.copy()
    missed[1] = np.nan
    assert (mirror_agreement(k, missed)[1] == 0).all() and (mirror_agreement(missed, k)[1] == 0).all()


def test_temporal_agreement_values():
    line = np.zeros((5, 17, 2), np.float32)
    line[:] = _pose(frames=1)[0]
    line[:, :, 0] += np.arange(5)[:, None] * 3.0  # uniform motion: every frame is its neighbours' midpoint
    np.testing.assert_allclose(temporal_agreement(line), 1.0)
    jumpy = line.copy()
    jumpy[2, 9, 0] += AGREEMENT_SCALE * np.sqrt(2000)  # one joint jumps in one frame
    score = temporal_agreement(jumpy)
    assert score[2, 9] == pytest.approx(0.5, rel=1e-5)
    assert score[1, 9] < 1 and score[3, 9] < 1
    assert score[0, 9] == score[1, 9] and score[4, 9] == score[3, 9]  # the ends copy their neighbour
