"""Corpus reader/writer, datasets and transforms (registered in mmaction2's registries)."""
from .corpus import (Action, Corpus, CorpusFormatError, CorpusMeta, FeatureTrack, PoseTrack, Track)
from .pose_export import corpus_to_pose_dataset, write_pose_dataset

__all__ = ['Action', 'Corpus', 'CorpusFormatError', 'CorpusMeta', 'FeatureTrack', 'PoseTrack', 'Track',
           'corpus_to_pose_dataset', 'write_pose_dataset']
