"""mmengine datasets, transforms and converters (registered in mmaction2's registries).

The corpus they read lives in :mod:`vpd_mm.corpus`; the stages that write it in :mod:`vpd_mm.stages`.
"""
from .pose_export import corpus_to_pose_dataset, write_pose_dataset
from .sequence import ActionSequenceDataset, FrameWindowDataset, PackSequenceInputs  # noqa: F401
from . import transforms  # noqa: F401,E402  (distillation transforms)
from .frame_dataset import ReplacementSampler, VPDFrameDataset  # noqa: F401
from .collate import shared_storage_collate  # noqa: F401
from . import action_videos, corpus_pose, crop_frames  # noqa: F401,E402  (baseline datasets and transforms)

__all__ = ['corpus_to_pose_dataset', 'write_pose_dataset', 'ActionSequenceDataset', 'FrameWindowDataset',
           'PackSequenceInputs', 'ReplacementSampler', 'VPDFrameDataset', 'shared_storage_collate']
