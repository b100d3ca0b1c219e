"""Per-joint confidences a user can compute without ground truth, from the teacher's own predictions.

- :func:`mirror_agreement`: the teacher run on the horizontally mirrored video, its prediction mapped back
  (x -> W - x, left and right swapped), compared with its prediction on the original video. A pose estimator
  that sees the athlete clearly gives the same joints both ways; on a blurred or ambiguous frame the two runs
  disagree (left/right confusions, misses of one of the two).
- :func:`temporal_agreement`: a joint against the midpoint of its previous and next positions.

Distances are in units of the pose's size (the largest distance among the shoulders and hips, as in
:func:`~vpd_mm.pose.normalize.normalize_2d`), mapped to ``(0, 1]`` by ``1 / (1 + (d / scale) ** 2)``: 1 where the
two agree, 0.5 at ``d = scale``. Missing joints give 0.
"""
from __future__ import annotations

import numpy as np

from .skeleton import COCO17_FLIP_INDEX, check_keypoints_shape

__all__ = ['AGREEMENT_SCALE', 'pose_size', 'unmirror_keypoints', 'mirror_agreement', 'temporal_agreement']

AGREEMENT_SCALE = 0.25
"""Distance (in pose sizes) at which an agreement score is 0.5."""

_TORSO = [5, 6, 11, 12]


def pose_size(keypoints: np.ndarray) -> np.ndarray:
    """(...) the largest pairwise distance among the shoulders and hips (NaN where one is missing)."""
    torso = np.asarray(keypoints, dtype=np.float64)[..., _TORSO, :2]
    diff = torso[..., :, None, :] - torso[..., None, :, :]
    return np.linalg.norm(diff, axis=-1).max(axis=(-1, -2))


def unmirror_keypoints(keypoints: np.ndarray, width: float) -> np.ndarray:
    """Keypoints predicted on a horizontally mirrored image, mapped back to the original image.

    Args:
        keypoints (np.ndarray): (..., 17, 2) pixels on the mirrored image (width ``width``).
        width (float): image width in pixels.

    Returns:
        np.ndarray: (..., 17, 2) float32: ``x -> width - x``, left and right joints swapped.
    """
    check_keypoints_shape(keypoints)
    out = np.array(keypoints, dtype=np.float32)[..., COCO17_FLIP_INDEX, :2]
    out[..., 0] = width - out[..., 0]
    return out


def _agreement(a: np.ndarray, b: np.ndarray, size: np.ndarray, scale: float) -> np.ndarray:
    dist = np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64), axis=-1)
    dist = dist / np.maximum(size, 1e-6)[..., None]
    score = 1.0 / (1.0 + (dist / scale) ** 2)
    return np.where(np.isfinite(score), score, 0.0).astype(np.float32)


def mirror_agreement(keypoints: np.ndarray, unmirrored: np.ndarray, scale: float = AGREEMENT_SCALE) -> np.ndarray:
    """Per-joint agreement of a prediction with the prediction on the mirrored image (mapped back).

    Args:
        keypoints (np.ndarray): (T, 17, 2) prediction on the original frames (NaN where missed).
        unmirrored (np.ndarray): (T, 17, 2) prediction on the mirrored frames, mapped back with
            :func:`unmirror_keypoints`.
        scale (float): distance in pose sizes at which the score is 0.5.

    Returns:
        np.ndarray: (T, 17) float32 in [0, 1]; 0 where either prediction is missing.
    """
    check_keypoints_shape(keypoints)
    check_keypoints_shape(unmirrored)
    return _agreement(keypoints[..., :2], unmirrored[..., :2], pose_size(keypoints), scale)


def temporal_agreement(keypoints: np.ndarray, scale: float = AGREEMENT_SCALE) -> np.ndarray:
    """Per-joint agreement of each frame with the midpoint of its neighbours (the first and last frame take
    the score of the frame next to them).

    Args:
        keypoints (np.ndarray): (T, 17, 2) consecutive frames.
        scale (float): distance in pose sizes at which the score is 0.5.

    Returns:
        np.ndarray: (T, 17) float32 in [0, 1]; 0 where the joint or both neighbours are missing.
    """
    check_keypoints_shape(keypoints)
    k = np.asarray(keypoints, np.float64)[..., :2]
    if len(k) < 3:
        return np.where(np.isfinite(k).all(-1), 1.0, 0.0).astype(np.float32)
    inner = _agreement(k[1:-1], (k[:-2] + k[2:]) / 2, pose_size(k[1:-1]), scale)
    return np.concatenate([inner[:1], inner, inner[-1:]])
