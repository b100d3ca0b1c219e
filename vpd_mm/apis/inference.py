"""Python entry points in the style of mmaction2's ``init_recognizer`` / ``inference_recognizer``.

Models:

- :func:`init_student` -> a :class:`~vpd_mm.stages.StudentExtractor` (the VPD student F of a distillation
  checkpoint, with its config's test pipeline);
- :func:`init_recognizer` -> a ``BiGRURecognizer`` with ``model.cfg`` and ``model.dataset_meta`` (classes, the
  feature set it was trained on, ``max_fps``, sport and window);
- :func:`init_detector` -> a ``FrameBiGRUDetector`` with the same attributes.

Each takes a config (file or :class:`~mmengine.config.Config`) and a checkpoint; without a config, the one the
mmengine Runner dumped beside the checkpoint (``work_dir/<config name>.py``) is used (:func:`find_config`).

Inference on a raw video:

- :func:`track_athlete` -> the athlete's boxes (:mod:`vpd_mm.stages.tracking`);
- :func:`extract_features` -> F over every tracked frame, original and mirrored, through the same crop and flow
  stages as training (a scratch corpus in a temporary or given folder);
- :func:`recognize` -> class scores of segments of a feature track;
- :func:`detect` -> per-frame action scores and the proposals made from them.

Example:
    >>> student = init_student(None, 'work_dirs/2d_vpd_mocap_sports/best_val_loss_ma5_epoch_8.pth')
    >>> feats = extract_features(student, 'my_video.mp4')            # tracks the athlete itself
    >>> model = init_recognizer(None, 'work_dirs/bigru/best_acc_top1_epoch_20.pth')
    >>> recognize(model, feats, segments=[(10, 70)], fps=25.0)[0]['label']
    'backflip_tuck'
"""
from __future__ import annotations

import copy
import glob
import os
import os.path as osp
import tempfile
from typing import Any, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint

from mmaction.registry import MODELS

from ..corpus import Action, Corpus, CorpusFormatError, FeatureTrack, Track
from ..datasets.sequence import action_window, dense_video_sequence, interpolate_track, subsample_indices, \
    valid_rows
from ..engine.checkpoint import CheckpointMismatchError, load_weights
from ..evaluation.detection import proposals_from_scores
from ..stages.crops import extract_video_crops
from ..stages.flow import DEFAULT_FLOW_METHOD, extract_video_flow, make_flow_fn
from ..stages.student_features import StudentExtractor
from ..stages.tracking import AthleteTrack, PersonDetector, build_person_detector, read_video_frames, track_frames
from ..utils.cli import InputError

__all__ = ['ConfigNotFoundError', 'find_config', 'load_config', 'init_student', 'init_recognizer', 'init_detector',
           'track_athlete', 'extract_features', 'recognize', 'detect', 'model_classes']


class ConfigNotFoundError(InputError, FileNotFoundError):
    """No config was given and none lies beside the checkpoint."""


def find_config(checkpoint: str) -> str:
    """The config the mmengine Runner dumped beside ``checkpoint``.

    The Runner writes ``<work_dir>/<config file name>`` (the merged config, overrides included) next to the
    checkpoints of ``<work_dir>``. Rule: the only ``*.py`` file of the checkpoint's folder, else the one named
    after the folder.

    Raises:
        ConfigNotFoundError: none or several candidates.
    """
    folder = osp.dirname(osp.abspath(checkpoint))
    found = sorted(glob.glob(osp.join(folder, '*.py')))
    if len(found) == 1:
        return found[0]
    named = osp.join(folder, osp.basename(folder) + '.py')
    if named in found:
        return named
    problem = 'no config file' if not found else f'{len(found)} config files ({", ".join(map(osp.basename, found))})'
    raise ConfigNotFoundError(checkpoint, f'{problem} beside the checkpoint to rebuild its model from',
                              hint='pass the training config explicitly')


def load_config(config: str | Config | None, checkpoint: str) -> Config:
    """``config`` as a :class:`Config` (a path is read; None: :func:`find_config`).

    Raises:
        InputError: the checkpoint or the config file does not exist.
    """
    if not osp.isfile(checkpoint):
        raise InputError(checkpoint, 'checkpoint does not exist')
    if isinstance(config, Config):
        return config
    path = find_config(checkpoint) if config is None else config
    if not osp.isfile(path):
        raise InputError(path, 'config file does not exist')
    return Config.fromfile(path)


def _device(device: str | None) -> str:
    return device or ('cuda' if torch.cuda.is_available() else 'cpu')


def init_student(config: str | Config | None, checkpoint: str, device: str | None = None,
                 batch_size: int = 250) -> StudentExtractor:
    """The VPD student F of a distillation checkpoint (its decoder is dropped).

    Args:
        config (str | Config | None): the distillation config (None: the one beside the checkpoint).
        checkpoint (str): the checkpoint.
        device (str, optional): default CUDA when available, else CPU.
        batch_size (int): frames per forward pass.

    Returns:
        StudentExtractor: ``.dim`` is the feature size d; ``.student`` the model.
    """
    cfg = load_config(config, checkpoint)
    try:
        return StudentExtractor(cfg, checkpoint, device=_device(device), batch_size=batch_size)
    except (ValueError, KeyError) as error:
        if isinstance(error, InputError):
            raise
        raise CheckpointMismatchError(f'{checkpoint}: not a student of its config ({error})') from None


def model_classes(cfg: Config, num_classes: int | None) -> list[str]:
    """The class names of a recogniser: its dataset's ``classes``, else the ``meta.json`` classes of its
    ``data_root`` when that corpus is readable, else ``class_0 ...``."""
    dataset = cfg.test_dataloader.dataset
    classes = dataset.get('classes')
    if classes is None:
        meta_path = osp.join(str(dataset.get('data_root', '')), 'meta.json')
        if osp.isfile(meta_path):
            try:
                classes = Corpus(osp.dirname(meta_path)).read_meta().classes
            except CorpusFormatError:
                classes = None
    if classes is None or (num_classes is not None and len(classes) != num_classes):
        classes = [f'class_{i}' for i in range(num_classes or 0)]
    return list(classes)


def _init_sequence_model(config: str | Config | None, checkpoint: str, device: str | None,
                         expected: str) -> torch.nn.Module:
    cfg = load_config(config, checkpoint)
    if cfg.model.get('type') != expected:
        raise CheckpointMismatchError(f'{checkpoint}: its config builds {cfg.model.get("type")!r}, expected '
                                      f'{expected!r}')
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(copy.deepcopy(cfg.model))
    state = _load_checkpoint(checkpoint, map_location='cpu')
    load_weights(model, state.get('state_dict', state) if isinstance(state, dict) else state, checkpoint)
    dataset = cfg.test_dataloader.dataset
    data_root = str(dataset.get('data_root', ''))
    sport = None
    if osp.isfile(osp.join(data_root, 'meta.json')):
        try:
            sport = Corpus(data_root).read_meta().sport
        except CorpusFormatError:
            sport = None
    model.cfg = cfg
    model.dataset_meta = dict(classes=model_classes(cfg, getattr(model, 'num_classes', None)),
                              features=dataset.get('features'), max_fps=dataset.get('max_fps'),
                              window=dataset.get('window', 'sport'), sport=sport,
                              in_channels=int(cfg.model.in_channels))
    return model.to(_device(device)).eval()


def init_recognizer(config: str | Config | None, checkpoint: str, device: str | None = None) -> torch.nn.Module:
    """A trained ``BiGRURecognizer`` (``configs/recognition/*``) in eval mode, with ``cfg`` and ``dataset_meta``.

    Raises:
        InputError: missing files; CheckpointMismatchError: the checkpoint does not fit its config.
    """
    return _init_sequence_model(config, checkpoint, device, 'BiGRURecognizer')


def init_detector(config: str | Config | None, checkpoint: str, device: str | None = None) -> torch.nn.Module:
    """A trained ``FrameBiGRUDetector`` (``configs/detection/*``) in eval mode, with ``cfg`` and ``dataset_meta``.
    """
    return _init_sequence_model(config, checkpoint, device, 'FrameBiGRUDetector')


# ------------------------------------------------------------------------------------------------ video
def track_athlete(video: str, detector: str | PersonDetector = 'mediapipe', weights: str | None = None,
                  max_gap_seconds: float = 1.0) -> AthleteTrack:
    """The athlete's boxes in a video (:mod:`vpd_mm.stages.tracking`).

    Args:
        video (str): the video file.
        detector (str | callable): ``'mediapipe'``, ``'torchvision'`` (with ``weights``) or a detector.
        weights (str, optional): torchvision detector weights.
        max_gap_seconds (float): longest gap bridged and interpolated.

    Returns:
        AthleteTrack: ``frames`` (T,) and ``boxes`` (T, 4) ``[x, y, w, h]``.
    """
    frames, fps, _ = read_video_frames(video)
    person = build_person_detector(detector, weights) if isinstance(detector, str) else detector
    return track_frames(frames, person, fps, max_gap_seconds)[0]


def _as_track(boxes: Track | AthleteTrack | np.ndarray, frames: Sequence[int] | None) -> Track:
    if isinstance(boxes, (Track, AthleteTrack)):
        return Track(np.asarray(boxes.frames, np.int32), np.asarray(boxes.boxes, np.float32))
    boxes = np.asarray(boxes, np.float32)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f'boxes must be (T, 4) [x, y, w, h], got {boxes.shape}')
    frames = np.arange(len(boxes), dtype=np.int32) if frames is None else np.asarray(frames, np.int32)
    if len(frames) != len(boxes):
        raise ValueError(f'{len(frames)} frames for {len(boxes)} boxes')
    return Track(frames, boxes)


def extract_features(student: StudentExtractor, video: str, boxes: Track | AthleteTrack | np.ndarray | None = None,
                     frames: Sequence[int] | None = None, flow: str = DEFAULT_FLOW_METHOD,
                     work_dir: str | None = None, detector: str | PersonDetector = 'mediapipe') -> FeatureTrack:
    """F of the student over every tracked frame of a raw video, original and mirrored.

    The video goes through the training stages: athlete boxes (given, or :func:`track_athlete`), 128x128 crops
    (:mod:`vpd_mm.stages.crops`), optical flow (:mod:`vpd_mm.stages.flow`), then the student's test pipeline.

    Args:
        student (StudentExtractor): from :func:`init_student`.
        video (str): the video file.
        boxes (Track | AthleteTrack | np.ndarray, optional): (T, 4) ``[x, y, w, h]`` pixel boxes; None: tracked.
        frames (Sequence[int], optional): the frames of an array of boxes (default ``0 .. T-1``).
        flow (str): flow method (``'farneback'`` default, ``'dis'``); use the one the student was trained with.
        work_dir (str, optional): keep the scratch corpus here (default: a temporary folder, removed).
        detector (str | callable): person detector when ``boxes`` is None.

    Returns:
        FeatureTrack: ``frames`` (T,), ``feats`` (T, 2, d) float32 [original, mirrored], ``scores`` (T,) NaN.
    """
    if not osp.isfile(video):
        raise InputError(video, 'video file does not exist')
    track = _as_track(track_athlete(video, detector) if boxes is None else boxes, frames)
    with tempfile.TemporaryDirectory(prefix='vpd_mm_video_') as scratch:
        root = work_dir or scratch
        corpus = Corpus(root)
        video_id = osp.splitext(osp.basename(video))[0]
        os.makedirs(corpus.path('videos'), exist_ok=True)
        link = corpus.path('videos', video_id + osp.splitext(video)[1].lower())
        if not osp.lexists(link):
            os.symlink(osp.abspath(video), link)
        corpus.write_track(video_id, track)
        extract_video_crops(corpus, video_id)
        if student.with_flow:
            extract_video_flow(corpus, video_id, make_flow_fn(flow), flow)
        kept, _ = student.video_frames(corpus.crops, video_id)
        feats = student.video_features(root, video_id, kept)
    return FeatureTrack(kept, feats, np.full(len(kept), np.nan, np.float32))


# ------------------------------------------------------------------------------------------------ predictions
def _check_dim(model: torch.nn.Module, track: FeatureTrack) -> None:
    want = model.dataset_meta['in_channels'] if hasattr(model, 'dataset_meta') else None
    if want is not None and track.dim != want:
        raise CheckpointMismatchError(f'the model takes {want}-d features ({model.dataset_meta.get("features")}), '
                                      f'the features are {track.dim}-d: use the student it was trained on')


@torch.no_grad()
def recognize(model: torch.nn.Module, features: FeatureTrack, segments: Sequence[tuple[int, int]] | None = None,
              fps: float = 25.0, max_fps: float | None = None, topk: int = 5) -> list[dict[str, Any]]:
    """Classify segments of a feature track with a recogniser from :func:`init_recognizer`.

    Each segment ``[start, end)`` becomes the sequence the recogniser was trained on: its training sport's window
    around the segment (``dataset_meta['window']``), clamped to the tracked frames, subsampled to ``max_fps``
    (default: its training config's), missing frames interpolated; the softmax is averaged over the original and
    mirrored views.

    Args:
        model: from :func:`init_recognizer`.
        features (FeatureTrack): per-frame features (T, 2, d).
        segments (Sequence[tuple[int, int]], optional): frame intervals; default one segment over the whole track.
        fps (float): the video's frame rate.
        max_fps (float, optional): override the training subsampling rate.
        topk (int): class scores kept per segment.

    Returns:
        list[dict]: per segment ``start``, ``end``, ``label`` (class name), ``label_index``, ``score`` and ``topk``
        ``[[name, score], ...]``; a segment without a valid tracked frame gets ``label`` None.
    """
    _check_dim(model, features)
    meta = getattr(model, 'dataset_meta', {})
    classes = meta.get('classes') or [f'class_{i}' for i in range(model.num_classes)]
    rate = float(max_fps or meta.get('max_fps') or 25.0)
    ok = valid_rows(features.feats)
    if segments is None:
        segments = [(int(features.frames[0]), int(features.frames[-1]) + 1)] if len(features.frames) else []
    device = next(model.parameters()).device
    results = []
    for start, end in segments:
        action = Action('segment', 'video', int(start), int(end), '', 'test')
        lo, hi = action_window(action, meta.get('sport') or 'videos', fps, meta.get('window', 'sport'))
        last = int(features.frames[-1]) + 1 if len(features.frames) else 0
        lo, hi = max(0, lo), min(hi, last)
        inside = ok & (features.frames >= lo) & (features.frames < hi)
        entry: dict[str, Any] = dict(start=int(start), end=int(end), label=None, label_index=None, score=None, topk=[])
        if hi > lo and inside.any():
            query = np.arange(lo, hi)[subsample_indices(hi - lo, fps, rate)]
            seq = interpolate_track(features.frames, features.feats, query)  # (T, 2, d)
            x = torch.from_numpy(seq).permute(1, 0, 2)[None].to(device)     # (1, 2, T, d)
            scores = model.logits(x, torch.tensor([x.shape[2]])).softmax(-1).mean(1)[0].cpu().numpy()
            order = np.argsort(-scores)[:topk]
            entry.update(label=classes[int(order[0])], label_index=int(order[0]), score=float(scores[order[0]]),
                         topk=[[classes[int(i)], float(scores[i])] for i in order])
        results.append(entry)
    return results


@torch.no_grad()
def detect(model: torch.nn.Module, features: FeatureTrack, threshold: float = 0.5, max_gap: int = 1,
           min_length: int = 5, mean_length: float | None = None) -> dict[str, Any]:
    """Per-frame action scores and proposals with a detector from :func:`init_detector`.

    Args:
        model: from :func:`init_detector`.
        features (FeatureTrack): per-frame features (T, 2, d); every frame from 0 to the last tracked one is
            scored (missing frames interpolated), as in the detection protocol.
        threshold (float): activation threshold of the proposals (the protocol picks it on training videos).
        max_gap (int): runs separated by at most this many frames merge.
        min_length (int): shorter proposals are dropped.
        mean_length (float, optional): normalise proposal lengths around this (frames).

    Returns:
        dict: ``frame_scores`` (T,) float32 and ``segments`` ``[{start, end, score}]`` (end exclusive).
    """
    _check_dim(model, features)
    if not len(features.frames) or not valid_rows(features.feats).any():
        return dict(frame_scores=np.zeros(0, np.float32), segments=[])
    scores = model.frame_scores(dense_video_sequence(features))
    proposals = proposals_from_scores(scores, threshold, max_gap=max_gap, min_length=min_length,
                                      mean_length=mean_length)
    return dict(frame_scores=scores, segments=[dict(start=int(s), end=int(e), score=float(p))
                                               for s, e, p in proposals])
