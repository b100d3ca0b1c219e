"""COCO-17 skeleton constants and 2D pose normalisation (pure numpy)."""
from __future__ import annotations

from .confidence import mirror_agreement, temporal_agreement, unmirror_keypoints
from .normalize import (FEATURE_DIM, keypoint_score, normalize_2d,
                        pose2d_feature, valid_mask)
from .skeleton import (COCO17_BONES, COCO17_FLIP_INDEX, COCO17_FLIP_PAIRS,
                       COCO17_NAMES, KEPT_FLIP_INDEX, KEPT_JOINTS, KEPT_NAMES,
                       check_keypoints_shape, flip_keypoints)

__all__ = [
    'COCO17_NAMES', 'COCO17_FLIP_PAIRS', 'COCO17_FLIP_INDEX', 'COCO17_BONES',
    'KEPT_JOINTS', 'KEPT_NAMES', 'KEPT_FLIP_INDEX', 'FEATURE_DIM',
    'check_keypoints_shape', 'flip_keypoints', 'normalize_2d', 'valid_mask',
    'pose2d_feature', 'keypoint_score', 'mirror_agreement', 'temporal_agreement', 'unmirror_keypoints'
]
