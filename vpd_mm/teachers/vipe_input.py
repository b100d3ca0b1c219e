"""The VIPE* input vector: a normalised 2D pose with its confidences, 13 x (x, y, confidence - 0.5) = 39 values."""
from __future__ import annotations

import numpy as np

from ..pose import COCO17_FLIP_INDEX, KEPT_JOINTS, normalize_2d

__all__ = ['VIPE_INPUT_DIM', 'vipe_input']

VIPE_INPUT_DIM = 3 * len(KEPT_JOINTS)
"""Length of the VIPE* input (39)."""

_KEPT = np.asarray(KEPT_JOINTS)


def vipe_input(keypoints: np.ndarray, scores: np.ndarray, flip: bool = False, invert: bool = False) -> np.ndarray:
    """Build VIPE* inputs from raw COCO-17 2D poses (reference ``normalize_2d_skeleton`` without bone features).

    The coordinates are :func:`vpd_mm.pose.normalize_2d` (hip-centred, torso-scaled, optionally inverted and/or
    mirrored); the confidences follow their joints through the mirror's left/right swap and are shifted by -0.5.

    Args:
        keypoints (np.ndarray): (..., 17, 2) pixel coordinates (or (..., 17, 3); the third column is ignored).
        scores (np.ndarray): (..., 17) confidences in [0, 1].
        flip (bool): mirror horizontally (the chiral "mirrored" view). Defaults to False.
        invert (bool): mirror vertically before normalising (the Diving48 option). Defaults to False.

    Returns:
        np.ndarray: (..., 39) float32 ``[x0, y0, c0 - 0.5, x1, ...]`` over the 13 kept joints; all-NaN rows for
        frames with a non-finite joint or confidence.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape[-1:] != (17,):
        raise ValueError(f'scores must have shape (..., 17), got {scores.shape}')
    xy = normalize_2d(keypoints, flip=flip, invert=invert).astype(np.float64)
    if flip:
        scores = scores[..., COCO17_FLIP_INDEX]
    conf = scores[..., _KEPT] - 0.5
    out = np.concatenate([xy, conf[..., None]], axis=-1)
    bad = ~np.isfinite(out).all(axis=(-2, -1))
    out[bad] = np.nan
    return out.reshape(out.shape[:-2] + (VIPE_INPUT_DIM,)).astype(np.float32)
