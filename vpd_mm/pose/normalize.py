"""Normalisation of 2D COCO-17 poses into the 13-joint "2D teacher feature".

A frame (one (17, 2) item) is valid iff all 17 input joints are finite in x
and y; :func:`normalize_2d` returns all-NaN (13, 2) rows exactly where
:func:`valid_mask` is False, never silent zeros.
"""
from __future__ import annotations

import numpy as np

from .skeleton import COCO17_FLIP_INDEX, KEPT_JOINTS, check_keypoints_shape

_KEPT = np.asarray(KEPT_JOINTS, dtype=np.int64)
_TORSO = (5, 6, 11, 12)  # left/right shoulder, left/right hip
_TORSO_PAIRS_I = np.array([a for k, a in enumerate(_TORSO) for _ in _TORSO[k + 1:]])
_TORSO_PAIRS_J = np.array([b for k, _ in enumerate(_TORSO) for b in _TORSO[k + 1:]])

FEATURE_DIM: int = 2 * len(KEPT_JOINTS)
"""Dimension of :func:`pose2d_feature` (26)."""


def _xy(keypoints: np.ndarray) -> np.ndarray:
    arr = np.asarray(keypoints)
    check_keypoints_shape(arr)
    return arr[..., :2].astype(np.float64)


def valid_mask(keypoints: np.ndarray) -> np.ndarray:
    """Per-frame validity of COCO-17 keypoints.

    A frame is valid iff all 17 input joints are finite (x and y; a third
    score column is ignored); :func:`normalize_2d` returns NaN rows exactly
    where this mask is False.

    Args:
        keypoints (np.ndarray): (..., 17, 2) pixel coordinates, COCO-17 order
            (or (..., 17, 3) with a score column).

    Returns:
        np.ndarray: (...) bool, True where the frame is valid.

    Raises:
        ValueError: if the input is not of shape (..., 17, 2) or (..., 17, 3).
    """
    return np.isfinite(_xy(keypoints)).all(axis=(-2, -1))


def normalize_2d(keypoints: np.ndarray, flip: bool = False,
                 invert: bool = False) -> np.ndarray:
    """Normalise 2D COCO-17 poses and keep the 13 body joints.

    Steps, in this order:

    1. if ``invert``: y -> -y (vertical mirror, no left/right swap);
    2. subtract the midpoint of the left (11) and right (12) hips;
    3. multiply by ``0.5 / s`` where ``s`` is the largest pairwise distance
       among joints {5, 6, 11, 12} (``s = 1`` if it is 0), so that this
       distance becomes 0.5;
    4. if ``flip``: swap every left/right pair then negate x (mirror about
       the hip midpoint);
    5. keep :data:`KEPT_JOINTS`.

    Computed in float64, vectorised over leading dims. Frames with any
    non-finite input joint (see :func:`valid_mask`) give all-NaN rows.

    Args:
        keypoints (np.ndarray): (..., 17, 2) pixel coordinates, COCO-17 order
            (or (..., 17, 3); the third column is ignored).
        flip (bool): mirror horizontally after normalising. Defaults to False.
        invert (bool): mirror vertically before normalising. Defaults to
            False.

    Returns:
        np.ndarray: (..., 13, 2) float32 normalised coordinates.

    Raises:
        ValueError: if the input is not of shape (..., 17, 2) or (..., 17, 3).
    """
    xy = _xy(keypoints)
    valid = np.isfinite(xy).all(axis=(-2, -1))
    # Zero-out invalid frames so no NaN/inf arithmetic (and no warning) occurs.
    xy = np.where(valid[..., None, None], xy, 0.0)
    if invert:
        xy[..., 1] = -xy[..., 1]
    xy = xy - 0.5 * (xy[..., 11:12, :] + xy[..., 12:13, :])
    diff = xy[..., _TORSO_PAIRS_I, :] - xy[..., _TORSO_PAIRS_J, :]
    scale = np.hypot(diff[..., 0], diff[..., 1]).max(axis=-1)
    scale = np.where(scale > 0, scale, 1.0)
    xy = xy * (0.5 / scale)[..., None, None]
    if flip:
        xy = xy[..., COCO17_FLIP_INDEX, :]
        xy[..., 0] = -xy[..., 0]
    out = xy[..., _KEPT, :]
    out[~valid] = np.nan
    return out.astype(np.float32)


def pose2d_feature(keypoints: np.ndarray, flip: bool = False,
                   invert: bool = False) -> np.ndarray:
    """The 2D teacher feature: flattened :func:`normalize_2d` output.

    Args:
        keypoints (np.ndarray): (..., 17, 2) pixel coordinates, COCO-17 order
            (or (..., 17, 3); the third column is ignored).
        flip (bool): see :func:`normalize_2d`.
        invert (bool): see :func:`normalize_2d`.

    Returns:
        np.ndarray: (..., 26) float32, row-major ``[x0, y0, x1, y1, ...]``
        over the 13 kept joints; all-NaN for invalid frames.
    """
    out = normalize_2d(keypoints, flip=flip, invert=invert)
    return out.reshape(out.shape[:-2] + (FEATURE_DIM,))


def keypoint_score(scores: np.ndarray) -> np.ndarray:
    """Mean confidence over the 13 kept joints.

    Args:
        scores (np.ndarray): (..., 17) per-joint confidences, COCO-17 order.

    Returns:
        np.ndarray: (...) float64 mean score; NaN where any kept score is NaN.

    Raises:
        ValueError: if the input is not of shape (..., 17).
    """
    arr = np.asarray(scores)
    if arr.ndim < 1 or arr.shape[-1] != 17:
        raise ValueError(
            f'scores must have shape (..., 17), got shape {tuple(arr.shape)}')
    return arr[..., _KEPT].astype(np.float64).mean(axis=-1)
