"""COCO-17 skeleton definitions and horizontal flipping of raw keypoints.

All constants are in COCO-17 joint order unless their name says ``KEPT``, in
which case they refer to the 13-joint space obtained by dropping the eyes and
ears (see :data:`KEPT_JOINTS`).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

COCO17_NAMES: tuple[str, ...] = (
    'nose',
    'left_eye',
    'right_eye',
    'left_ear',
    'right_ear',
    'left_shoulder',
    'right_shoulder',
    'left_elbow',
    'right_elbow',
    'left_wrist',
    'right_wrist',
    'left_hip',
    'right_hip',
    'left_knee',
    'right_knee',
    'left_ankle',
    'right_ankle',
)
"""Names of the 17 COCO keypoints, in index order."""

COCO17_FLIP_PAIRS: tuple[tuple[int, int], ...] = (
    (1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
"""(left, right) index pairs swapped by a horizontal flip."""


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def _flip_index(num: int, pairs: tuple[tuple[int, int], ...]) -> np.ndarray:
    index = np.arange(num, dtype=np.int64)
    for left, right in pairs:
        index[left], index[right] = right, left
    return _readonly(index)


COCO17_FLIP_INDEX: np.ndarray = _flip_index(17, COCO17_FLIP_PAIRS)
"""(17,) int64 permutation: ``kpts[..., COCO17_FLIP_INDEX, :]`` swaps L/R."""

COCO17_BONES: tuple[tuple[int, int], ...] = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12),
    (5, 6), (5, 7), (6, 8), (7, 9), (8, 10), (0, 5), (0, 6))
"""Joint index pairs to connect when drawing a COCO-17 skeleton."""

KEPT_JOINTS: tuple[int, ...] = (0, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
"""COCO-17 indices of the 13 joints kept for pose features (no eyes/ears)."""

KEPT_NAMES: tuple[str, ...] = tuple(COCO17_NAMES[i] for i in KEPT_JOINTS)
"""Names of the 13 kept joints, in kept order."""

KEPT_FLIP_INDEX: np.ndarray = _readonly(
    np.array([KEPT_JOINTS.index(int(COCO17_FLIP_INDEX[j])) for j in KEPT_JOINTS],
             dtype=np.int64))
"""(13,) int64 permutation in the 13-joint space that swaps L/R joints."""


def check_keypoints_shape(keypoints: np.ndarray, name: str = 'keypoints') -> None:
    """Raise if ``keypoints`` is not of shape (..., 17, 2) or (..., 17, 3).

    Args:
        keypoints (np.ndarray): array to check.
        name (str): argument name used in the error message.

    Raises:
        ValueError: if the trailing shape is wrong.
    """
    shape = np.shape(keypoints)
    if len(shape) < 2 or shape[-2] != 17 or shape[-1] not in (2, 3):
        raise ValueError(
            f'{name} must have shape (..., 17, 2) or (..., 17, 3), '
            f'got shape {tuple(shape)}')


def flip_keypoints(keypoints: np.ndarray,
                   width: Optional[float] = None) -> np.ndarray:
    """Mirror raw COCO-17 keypoints horizontally.

    Every left/right pair (:data:`COCO17_FLIP_PAIRS`) is swapped and the x
    coordinate is mirrored with the convention ``x -> width - x`` when
    ``width`` is given, and ``x -> -x`` when ``width`` is None. The y
    coordinate and, for (..., 17, 3) input, the score column are left
    untouched, but are permuted together with their joints. The operation is
    an involution: ``flip_keypoints(flip_keypoints(k, w), w) == k`` (exactly
    for ``width=None`` and for integer-valued coordinates; otherwise up to
    floating point rounding of ``width - (width - x)``).

    Args:
        keypoints (np.ndarray): (..., 17, 2) pixel coordinates (x, y) or
            (..., 17, 3) (x, y, score), COCO-17 order.
        width (float, optional): image width used for the mirror. Defaults
            to None (mirror about x = 0).

    Returns:
        np.ndarray: flipped keypoints, same shape as the input; floating input
        keeps its dtype, other input is converted to float64.

    Raises:
        ValueError: if the input is not of shape (..., 17, 2) or (..., 17, 3).
    """
    kpts = np.asarray(keypoints)
    check_keypoints_shape(kpts)
    if not np.issubdtype(kpts.dtype, np.floating):
        kpts = kpts.astype(np.float64)
    out = kpts[..., COCO17_FLIP_INDEX, :].copy()
    if width is None:
        out[..., 0] = -out[..., 0]
    else:
        out[..., 0] = width - out[..., 0]
    return out
