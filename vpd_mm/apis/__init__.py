"""Python entry points in mmaction2's style (the top layer: it composes stages, models and datasets).

- :mod:`.inference`: :func:`init_student`, :func:`init_recognizer`, :func:`init_detector`,
  :func:`track_athlete`, :func:`extract_features` (a raw video and its boxes -> student features),
  :func:`recognize`, :func:`detect`;
- :mod:`.video_inference`: :func:`infer_videos`, raw videos -> tracks, crops, flow, features, predictions and
  overlays (``tools/infer_video.py``);
- :mod:`.visualization`: boxes, teacher pose, crop + flow and predictions over time (``tools/visualize.py``);
- :mod:`.visualization_hook`: :class:`VPDVisualizationHook`, the same pictures of test samples with their ground
  truth and prediction while ``tools/test.py --show-dir`` tests (registered in mmaction2's HOOKS).
"""
from .inference import (detect, extract_features, find_config, init_detector, init_recognizer, init_student,
                        recognize, track_athlete)
from .video_inference import infer_videos, predict_video
from .visualization import render_video
from .visualization_hook import VPDVisualizationHook

__all__ = ['init_student', 'init_recognizer', 'init_detector', 'track_athlete', 'extract_features', 'recognize',
           'detect', 'find_config', 'infer_videos', 'predict_video', 'render_video', 'VPDVisualizationHook']
