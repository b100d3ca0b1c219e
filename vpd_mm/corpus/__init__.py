"""The corpus: one folder per sport, the contract between stages (``design.md`` section 2).

- :mod:`.corpus`: :class:`Corpus` (reader/writer of every file of the layout), its records and their validation.
- :mod:`.atomic`: atomic file writes (a temporary file, then ``os.replace``).
- :mod:`.crop_store`: ``crops/`` and ``flow/``, owned by the corpus as ``corpus.crops``.
- :mod:`.fewshot`: few-shot id lists and the validation carve-out.

Nothing here builds a model or trains; every stage stands on this package.
"""
from .atomic import atomic_write_bytes
from .corpus import (FORMAT_VERSION, SPLITS, STAGE_OUTPUTS, VIDEO_EXTENSIONS, Action, Corpus, CorpusFormatError,
                     CorpusMeta, FeatureTrack, MissingStageError, PoseTrack, Track)
from .crop_store import CropStore
from .fewshot import carve_validation, draw_fewshot, fewshot_list_path, read_fewshot_ids

__all__ = ['FORMAT_VERSION', 'SPLITS', 'STAGE_OUTPUTS', 'VIDEO_EXTENSIONS', 'Action', 'Corpus', 'CorpusFormatError',
           'MissingStageError', 'CorpusMeta',
           'FeatureTrack', 'PoseTrack', 'Track', 'CropStore', 'atomic_write_bytes', 'carve_validation',
           'draw_fewshot', 'fewshot_list_path', 'read_fewshot_ids']
