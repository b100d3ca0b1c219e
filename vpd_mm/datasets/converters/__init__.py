"""Converters from the four benchmarks' native label files (FSJump6, Tennis7, FX35, Diving48) into the corpus,
importers of published athlete tracks/poses and mmaction2 skeleton pickles, and of published few-shot id lists.

Entry points: :func:`prepare_corpus` (``tools/data/prepare_<sport>.py``) and :func:`import_fewshot_lists`
(``tools/data/import_fewshot.py``).
"""
from .common import Conversion, LabelFileError, SkipLog
from .diving48 import convert_diving48
from .fewshot_lists import find_fewshot_lists, import_fewshot_lists, read_excluded, validate_fewshot_list
from .fsjump6 import FS_CLASSES, FS_TEST_PREFIXES, convert_fsjump6, routine_name
from .fx35 import convert_fx35, element_frames, read_gym99_categories
from .mmaction_skeleton import import_skeleton_pickle, load_skeleton_pickle
from .prepare import CARVED_VAL_SPORTS, SPORTS, PrepareSummary, prepare_corpus
from .published import ImportSummary, import_published, read_boxes_json, read_coco_keypoints
from .tennis7 import TENNIS7_CLASSES, TENNIS_TEST_MATCHES, convert_tennis7
from .video_meta import VideoCatalog, VideoInfo, probe_video, read_reference_video_meta
from .videos import VideoPrepareSummary, prepare_videos, read_actions_csv

__all__ = [
    'Conversion', 'LabelFileError', 'SkipLog', 'convert_diving48', 'find_fewshot_lists', 'import_fewshot_lists',
    'read_excluded', 'validate_fewshot_list', 'FS_CLASSES', 'FS_TEST_PREFIXES', 'convert_fsjump6', 'routine_name',
    'convert_fx35', 'element_frames', 'read_gym99_categories', 'import_skeleton_pickle', 'load_skeleton_pickle',
    'CARVED_VAL_SPORTS', 'SPORTS', 'PrepareSummary', 'prepare_corpus', 'ImportSummary', 'import_published',
    'read_boxes_json', 'read_coco_keypoints', 'TENNIS7_CLASSES', 'TENNIS_TEST_MATCHES', 'convert_tennis7',
    'VideoCatalog', 'VideoInfo', 'probe_video', 'read_reference_video_meta', 'VideoPrepareSummary', 'prepare_videos',
    'read_actions_csv'
]
