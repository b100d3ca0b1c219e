"""Corpus reader/writer, datasets and transforms (registered in mmaction2's registries)."""
from .corpus import (Action, Corpus, CorpusFormatError, CorpusMeta, FeatureTrack, PoseTrack, Track)
from .pose_export import corpus_to_pose_dataset, write_pose_dataset
from .crop_store import CropStore  # noqa: F401  (crops/ and flow/ storage)
from .crops import extract_crops, mirror_crops_and_flow  # noqa: F401
from .flow import extract_flow  # noqa: F401
from .fewshot import carve_validation, draw_fewshot, read_fewshot_ids  # noqa: F401
from .sequence import ActionSequenceDataset, FrameWindowDataset, PackSequenceInputs  # noqa: F401
from . import transforms  # noqa: F401,E402  (distillation transforms)
from .frame_dataset import ReplacementSampler, VPDFrameDataset  # noqa: F401
from . import action_videos, corpus_pose, crop_frames  # noqa: F401,E402  (baseline datasets and transforms)

__all__ = ['Action', 'Corpus', 'CorpusFormatError', 'CorpusMeta', 'FeatureTrack', 'PoseTrack', 'Track',
           'corpus_to_pose_dataset', 'write_pose_dataset']
