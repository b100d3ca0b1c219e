"""Feature sequences for the downstream models: one action (recognition) or one video (detection) as the sequence
of its per-frame features, original and mirrored.

Building a sequence (reference ``spec/reference_vpd.md`` sections 6.1 and 9):

1. The window of the action, per sport (:func:`action_window`): figure skating from about 2.5 s before the
   jump's midpoint to its end (at least the jump itself and 0.5 s past the midpoint); tennis +-0.5 s around the
   contact frame; floor exercise from 0.25 s before the start; Diving48 the clip; any other sport (the synthetic
   corpus, the embedded benchmark) the action's own ``[start, end)``. Windows are clamped to the frames the
   video has features for (``0 .. last feature frame``).
2. Missing frames (no entry in the feature file, or a non-finite row) are filled by linear interpolation between
   the nearest valid frames of the whole video: frame ``a + i`` between valid frames ``a`` and ``b`` gets
   ``(1 - i/(b-a)) * x[a] + (i/(b-a)) * x[b]``. The reference reverses the two weights (its bug 4); frames
   before the first or after the last valid frame take the nearest valid frame (the reference leaves zeros).
3. Subsampling to at most ``max_fps`` (``meta.json``; 25 for every sport of the paper): with ``r = min(1,
   max_fps / fps)``, frame ``i`` of the window is kept when ``floor(i * r)`` moves to a new integer (the first
   frame is always kept), the reference's accumulator. ``fps`` is the video's own rate,
   ``meta.extra['video_fps'][video_id]`` when the converter recorded one, else ``meta.fps``.

Variable lengths travel with the sample: :class:`PackSequenceInputs` packs ``inputs`` as ``(V, T, d)`` (views
first, so mmaction2's ``ActionDataPreprocessor`` pads time, never the views) and puts ``length`` in the data
sample's metainfo; the models ignore the padded steps.

An action whose video has no feature file, or no valid feature frame inside its window, is skipped; skips are
counted, listed in ``dataset.skipped`` and logged, never silent.
"""
from __future__ import annotations

import math
import os.path as osp
from collections import Counter
from typing import Any, Callable, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmaction.registry import DATASETS, TRANSFORMS
from mmaction.structures import ActionDataSample

from ..corpus.corpus import Action, Corpus, CorpusFormatError, CorpusMeta, FeatureTrack
from ..corpus.fewshot import carve_validation, read_fewshot_ids

__all__ = [
    'parse_feature_spec', 'interpolate_track', 'subsample_indices', 'action_window', 'detection_interval',
    'video_fps', 'load_action_sequences', 'dense_video_sequence', 'frame_labels', 'ActionSequenceDataset',
    'FrameWindowDataset', 'PackSequenceInputs', 'SPORT_WINDOWS', 'load_video_sequences', 'valid_rows'
]


# ------------------------------------------------------------------------------------------------ pure functions
def parse_feature_spec(features: str) -> tuple[str, str]:
    """``'teacher/pose2d'`` -> ``('teacher', 'pose2d')``; ``'features/vi_vpd'`` -> ``('features', 'vi_vpd')``."""
    parts = features.strip('/').split('/')
    if len(parts) != 2 or parts[0] not in ('teacher', 'features') or not parts[1]:
        raise ValueError(f"features must be 'teacher/<name>' or 'features/<name>', got {features!r}")
    return parts[0], parts[1]


def valid_rows(feats: np.ndarray) -> np.ndarray:
    """(T,) bool: rows whose features are all finite (both views). ``feats`` is (T, ...)."""
    return np.isfinite(feats.reshape(len(feats), -1)).all(axis=1)


def interpolate_track(frames: np.ndarray, feats: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Features at arbitrary frames, linearly interpolated between the nearest valid frames.

    Args:
        frames (np.ndarray): (N,) strictly increasing frame numbers of the feature rows.
        feats (np.ndarray): (N, ...) features; rows with any non-finite value count as missing.
        query (np.ndarray): (Q,) frame numbers to evaluate.

    Returns:
        np.ndarray: (Q, ...) float32. Between valid frames ``a < q < b`` the value is
        ``(1 - w) * x[a] + w * x[b]`` with ``w = (q - a) / (b - a)``; before the first valid frame the first valid
        row, after the last the last valid row.

    Raises:
        ValueError: no row is valid.
    """
    ok = valid_rows(feats)
    if not ok.any():
        raise ValueError('no valid (finite) feature row to interpolate from')
    known_frames = np.asarray(frames)[ok].astype(np.float64)
    known = np.asarray(feats, dtype=np.float64)[ok]
    query = np.asarray(query, dtype=np.float64)
    right = np.clip(np.searchsorted(known_frames, query, side='left'), 0, len(known_frames) - 1)
    left = np.clip(right - 1, 0, None)
    exact_or_before = known_frames[right] <= query
    left = np.where(exact_or_before, right, left)  # query at/after a valid frame with nothing valid after it
    span = known_frames[right] - known_frames[left]
    weight = np.divide(query - known_frames[left], span, out=np.zeros_like(query), where=span > 0)
    weight = np.clip(weight, 0.0, 1.0)  # before the first valid frame: left == right, weight 0 -> nearest
    shape = (-1,) + (1,) * (known.ndim - 1)
    out = (1.0 - weight).reshape(shape) * known[left] + weight.reshape(shape) * known[right]
    return out.astype(np.float32)


def subsample_indices(length: int, fps: float, max_fps: float) -> np.ndarray:
    """Indices of the frames kept when a ``length``-frame sequence at ``fps`` is reduced to at most ``max_fps``.

    With ``r = min(1, max_fps / fps)``, frame ``i`` is kept when ``floor(i * r)`` differs from
    ``floor((i - 1) * r)``; frame 0 is always kept, and ``r = 1`` keeps everything.

    Returns:
        np.ndarray: (K,) int64 increasing indices.
    """
    if fps <= 0 or max_fps <= 0:
        raise ValueError(f'fps and max_fps must be positive, got {fps} and {max_fps}')
    rate = min(1.0, max_fps / fps)
    ticks = np.floor(np.arange(-1, length) * rate + 1e-9)
    return np.flatnonzero(np.diff(ticks) > 0)


def _window_fsjump6(action: Action, fps: float) -> tuple[int, int]:
    mid = (action.start + action.end) / 2
    return min(action.start, int(mid - 2.5 * fps)), max(action.end, int(mid + 0.5 * fps))


def _contact_frame(action: Action) -> int:
    return (action.start + action.end) // 2  # == start for a one-frame [contact, contact + 1) action


def _window_tennis7(action: Action, fps: float) -> tuple[int, int]:
    contact = _contact_frame(action)
    return int(contact - 0.5 * fps), int(contact + 0.5 * fps)


def _window_fx35(action: Action, fps: float) -> tuple[int, int]:
    return int(math.floor(action.start - 0.25 * fps)), action.end


def _window_action(action: Action, fps: float) -> tuple[int, int]:
    return action.start, action.end


SPORT_WINDOWS: dict[str, Callable[[Action, float], tuple[int, int]]] = {
    'fsjump6': _window_fsjump6,
    'tennis7': _window_tennis7,
    'fx35': _window_fx35,
    'diving48': _window_action,
}
"""Per-sport recognition windows ``(action, fps) -> (start, end)``; other sports use the action's own frames."""


def action_window(action: Action, sport: str, fps: float, window: str = 'sport') -> tuple[int, int]:
    """The frames ``[start, end)`` of the recognition sequence of ``action`` (before clamping to the video).

    Args:
        action (Action): the action; for tennis ``start`` is the ball-contact frame (the contact is taken as
            ``(start + end) // 2``, which is ``start`` for a one-frame action).
        sport (str): ``meta.sport``; see :data:`SPORT_WINDOWS`.
        fps (float): the video's frame rate.
        window (str): ``'sport'`` (the per-sport window) or ``'action'`` (always ``[start, end)``).
    """
    if window == 'action':
        return action.start, action.end
    if window != 'sport':
        raise ValueError(f"window must be 'sport' or 'action', got {window!r}")
    return SPORT_WINDOWS.get(sport, _window_action)(action, fps)


def detection_interval(action: Action, sport: str, fps: float) -> tuple[int, int]:
    """The ground-truth interval ``[start, end)`` of an action for detection (reference section 8.1): tennis
    swings are the 0.2 s around contact (``[int(c - 0.1 fps), int(c + 0.1 fps))``), everything else the action."""
    if sport == 'tennis7':
        contact = _contact_frame(action)
        return max(0, int(contact - 0.1 * fps)), max(int(contact + 0.1 * fps), contact + 1)
    return action.start, action.end


def video_fps(meta: CorpusMeta, video_id: str) -> float:
    """The frame rate of one video: ``meta.extra['video_fps'][video_id]`` if recorded, else ``meta.fps``."""
    rates = meta.extra.get('video_fps', {}) if isinstance(meta.extra, dict) else {}
    return float(rates.get(video_id, meta.fps))


def _feature_folder(corpus: Corpus, features: str) -> tuple[str, str]:
    kind, name = parse_feature_spec(features)
    corpus.require(f'{kind}/{name}')  # names the tool that writes the feature set
    return kind, name


def load_action_sequences(corpus: Corpus, features: str, actions: Sequence[Action], window: str = 'sport',
                          max_fps: float | None = None,
                          ) -> tuple[dict[str, np.ndarray], list[tuple[str, str]]]:
    """The recognition sequence of every action (module docstring: window, interpolation, subsampling).

    Args:
        corpus (Corpus): the corpus.
        features (str): ``'teacher/<name>'`` or ``'features/<name>'``.
        actions (Sequence[Action]): the actions to load.
        window (str): ``'sport'`` or ``'action'`` (see :func:`action_window`).
        max_fps (float, optional): defaults to ``meta.max_fps``.

    Returns:
        tuple: ``{action_id: (T, 2, d) float32}`` and the skipped ``[(action_id, reason), ...]``.
    """
    meta = corpus.read_meta()
    kind, name = _feature_folder(corpus, features)
    max_fps = float(max_fps or meta.max_fps)
    tracks: dict[str, FeatureTrack | None] = {}
    sequences: dict[str, np.ndarray] = {}
    skipped: list[tuple[str, str]] = []
    dims: set[int] = set()
    for action in actions:
        if action.video_id not in tracks:
            path = corpus.feature_path(kind, name, action.video_id)
            tracks[action.video_id] = corpus.read_features(kind, name, action.video_id) if osp.isfile(path) \
                else None
        track = tracks[action.video_id]
        if track is None:
            skipped.append((action.id, f'no feature file {kind}/{name}/{action.video_id}.npz'))
            continue
        fps = video_fps(meta, action.video_id)
        start, end = action_window(action, meta.sport, fps, window)
        last = int(track.frames[-1]) + 1 if len(track.frames) else 0
        start, end = max(0, start), min(end, last)
        ok = valid_rows(track.feats)
        inside = ok & (track.frames >= start) & (track.frames < end)
        if end <= start or not inside.any():
            skipped.append((action.id, f'no valid feature frame in frames [{start}, {end}) of {action.video_id}'))
            continue
        query = np.arange(start, end)[subsample_indices(end - start, fps, max_fps)]
        sequences[action.id] = interpolate_track(track.frames, track.feats, query)
        dims.add(track.dim)
    if len(dims) > 1:
        raise CorpusFormatError(corpus.path(kind, name), 'feats', f'videos have different feature sizes {dims}')
    return sequences, skipped


def dense_video_sequence(track: FeatureTrack, length: int | None = None) -> np.ndarray:
    """Every frame ``0 .. length - 1`` of a video (default: up to its last feature frame), interpolated.

    Returns:
        np.ndarray: (T, 2, d) float32.
    """
    length = int(track.frames[-1]) + 1 if length is None else int(length)
    return interpolate_track(track.frames, track.feats, np.arange(length))


def frame_labels(actions: Sequence[Action], length: int, sport: str, fps: float) -> np.ndarray:
    """Per-frame binary detection target: 1 inside any action's :func:`detection_interval`.

    Returns:
        np.ndarray: (length,) int64.
    """
    labels = np.zeros(length, np.int64)
    for action in actions:
        start, end = detection_interval(action, sport, fps)
        labels[max(0, start):max(0, min(end, length))] = 1
    return labels


def _build_pipeline(pipeline: Sequence[dict | Callable]) -> list[Callable]:
    """Build transforms in mmaction2's registry, so that the datasets also work outside a Runner's scope."""
    return [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]


def _log_skips(owner: str, skipped: list[tuple[str, str]], total: int) -> None:
    if skipped:
        examples = '; '.join(f'{i}: {r}' for i, r in skipped[:3])
        print_log(f'{owner}: skipped {len(skipped)} of {total} items without features, e.g. {examples}',
                  logger='current', level=30)


# ------------------------------------------------------------------------------------------------ transform
@TRANSFORMS.register_module()
class PackSequenceInputs(BaseTransform):
    """Pack a feature sequence for the BiGRU models.

    Reads ``feats`` (T, 2, d) and ``views`` (which rows to use: ``(0,)``, ``(1,)`` or ``(0, 1)``), optional
    ``label`` (int), ``frame_labels`` (T,) and ``start`` (first frame of a detection window). Writes ``inputs``
    (V, T, d) float32 and an ``ActionDataSample`` with ``gt_label``, ``gt_frame_labels`` (when given) and metainfo
    ``length`` (T), ``action_id``, ``video_id``, ``views``, ``start`` (0 when not given).
    """

    def transform(self, results: dict) -> dict:
        feats = np.asarray(results['feats'])
        views = list(results.get('views', (0, 1)))
        inputs = torch.from_numpy(np.ascontiguousarray(feats[:, views].transpose(1, 0, 2), dtype=np.float32))
        sample = ActionDataSample()
        if 'label' in results:
            sample.set_gt_label(int(results['label']))
        if 'frame_labels' in results:
            sample.gt_frame_labels = torch.as_tensor(np.asarray(results['frame_labels']), dtype=torch.long)
        sample.set_metainfo(dict(length=int(feats.shape[0]), views=tuple(views),
                                 action_id=results.get('action_id', ''), video_id=results.get('video_id', ''),
                                 start=int(results.get('start', 0))))
        return dict(inputs=inputs, data_samples=sample)


# ------------------------------------------------------------------------------------------------ recognition
@DATASETS.register_module()
class ActionSequenceDataset(BaseDataset):
    """Actions of one split as feature sequences, for the BiGRU recognizer (and the DTW classifier).

    Args:
        data_root (str): the corpus folder.
        features (str): ``'teacher/<name>'`` (e.g. ``teacher/pose2d``, ``teacher/vipe``) or ``'features/<name>'``
            (e.g. ``features/vi_vpd``).
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        classes (Sequence[str], optional): the classes, in label-index order (default: ``meta.json`` classes).
            Actions of other classes are left out (counted in the log), e.g. Tennis7 uses 7 of the 11 tennis
            labels. A name that is not a corpus class is an error.
        views (str): ``'augment'`` (each action gives two samples, original and mirrored: training),
            ``'both'`` (one sample holding both views; the model averages their softmax: testing),
            ``'original'``, or ``'auto'`` (``augment`` for train, ``both`` otherwise).
        window (str): ``'sport'`` (per-sport windows) or ``'action'`` (the action's own frames).
        max_fps (float, optional): subsampling target (default ``meta.max_fps``).
        carve_val (float): when > 0 and the corpus has no ``val`` actions, this fraction of the training actions
            (seeded, class-stratified, :func:`carve_validation`) is the ``val`` split and leaves ``train``.
            Model selection therefore never sees the test split (the reference validates FX35 and Diving48 on
            test, its bug 6).
        carve_seed (int): seed of the carve.
        fewshot_file (str, optional): a few-shot id list; ``train`` keeps only those actions and a carved
            ``val`` leaves them out.
        pipeline (list): default ``[PackSequenceInputs]``.
        serialize_data (bool): mmengine's packing of the data list into one buffer for DataLoader workers.
            Default False here: the list is a few thousand feature arrays, and packing it costs a full garbage
            collection per dataset (0.2 s each in a large process, most of a DTW few-shot run's time).

    Raises:
        CorpusFormatError: bad id list, missing feature folder, unknown class names.
        ValueError: a class of the val/test actions has no training action, or nothing is left to load.
    """

    METAINFO: dict = dict(classes=None)

    def __init__(self, data_root: str, features: str = 'teacher/pose2d', split: str = 'train',
                 classes: Sequence[str] | None = None, views: str = 'auto', window: str = 'sport',
                 max_fps: float | None = None, carve_val: float = 0.0, carve_seed: int = 0,
                 fewshot_file: str | None = None, pipeline: Sequence[dict] = (dict(type='PackSequenceInputs'),),
                 test_mode: bool = False, serialize_data: bool = False, **kwargs: Any) -> None:
        if split not in ('train', 'val', 'test'):
            raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
        if views == 'auto':
            views = 'augment' if split == 'train' else 'both'
        if views not in ('augment', 'both', 'original'):
            raise ValueError(f"views must be 'augment', 'both', 'original' or 'auto', got {views!r}")
        self.corpus = Corpus(data_root)
        self.features, self.split, self.views, self.window = features, split, views, window
        self.max_fps, self.carve_val, self.carve_seed, self.fewshot_file = max_fps, carve_val, carve_seed, fewshot_file
        self.skipped: list[tuple[str, str]] = []
        meta = self.corpus.read_meta()
        if classes is None:
            classes = list(meta.classes)
        unknown = [c for c in classes if c not in meta.classes]
        if unknown:
            raise CorpusFormatError(self.corpus.path('meta.json'), 'classes',
                                    f'unknown class names {unknown}; the corpus classes are {meta.classes}')
        self.class_names = list(classes)
        super().__init__(ann_file='', metainfo=dict(classes=tuple(classes)), data_root=data_root,
                         pipeline=_build_pipeline(pipeline), test_mode=test_mode, serialize_data=serialize_data,
                         **kwargs)

    # splits --------------------------------------------------------------------------------------------------
    def split_actions(self) -> list[Action]:
        """The actions of this dataset's split (carving and few-shot selection applied, class filter not)."""
        actions = self.corpus.read_actions()
        fewshot = read_fewshot_ids(self.fewshot_file, actions) if self.fewshot_file else None
        carved: set[str] = set()
        if self.carve_val > 0 and not any(a.split == 'val' for a in actions):
            carved = set(carve_validation(actions, self.carve_val, self.carve_seed)) - set(fewshot or ())
        if self.split == 'val' and carved:
            chosen = [a for a in actions if a.id in carved]
        elif self.split == 'train':
            chosen = [a for a in actions if a.split == 'train' and a.id not in carved]
            if fewshot is not None:
                keep = set(fewshot)
                chosen = [a for a in chosen if a.id in keep]
        else:
            chosen = [a for a in actions if a.split == self.split]
        return chosen

    def load_data_list(self) -> list[dict]:
        owner = f'{type(self).__name__}({self.features}, split={self.split})'
        actions = self.split_actions()
        index = {name: i for i, name in enumerate(self.class_names)}
        other = [a for a in actions if a.label not in index]
        if other:
            print_log(f'{owner}: left out {len(other)} actions of classes outside the {len(index)} used '
                      f'({sorted({a.label for a in other})[:5]})', logger='current')
        actions = [a for a in actions if a.label in index]
        if not actions:
            raise ValueError(f'{owner}: no actions of classes {self.class_names} in {self.corpus.root}')
        sequences, self.skipped = load_action_sequences(self.corpus, self.features, actions, self.window,
                                                        self.max_fps)
        _log_skips(owner, self.skipped, len(actions))
        if not sequences:
            raise ValueError(f'{owner}: none of the {len(actions)} actions has features in '
                             f'{self.corpus.path(self.features)}')
        data_list = [dict(action_id=a.id, video_id=a.video_id, label=index[a.label], feats=sequences[a.id])
                     for a in actions if a.id in sequences]
        if self.split == 'train':
            self._check_classes_present(owner, {d['label'] for d in data_list})
        return data_list

    def _check_classes_present(self, owner: str, present: set[int]) -> None:
        held_out = Counter(a.label for a in self.corpus.read_actions() if a.split != 'train')
        missing = [c for i, c in enumerate(self.class_names) if i not in present and held_out.get(c)]
        if missing:
            raise ValueError(f'{owner}: class {missing[0]!r} has no training action with features but '
                             f'{held_out[missing[0]]} val/test actions (classes absent from train: {missing})')

    # samples -------------------------------------------------------------------------------------------------
    @property
    def num_actions(self) -> int:
        """Actions loaded (each gives two samples with ``views='augment'``)."""
        return super().__len__()

    def __len__(self) -> int:
        return self.num_actions * (2 if self.views == 'augment' else 1)

    def get_data_info(self, idx: int) -> dict:
        if self.views == 'augment':
            info = super().get_data_info(idx // 2)
            info['views'] = (idx % 2,)
        else:
            info = super().get_data_info(idx)
            info['views'] = (0, 1) if self.views == 'both' else (0,)
        return info

    def sequences(self) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
        """All loaded actions as arrays (for the DTW classifier): ``[(T, 2, d), ...]``, labels (N,), ids."""
        infos = [super(ActionSequenceDataset, self).get_data_info(i) for i in range(self.num_actions)]
        return ([i['feats'] for i in infos], np.array([i['label'] for i in infos], np.int64),
                [i['action_id'] for i in infos])


# ------------------------------------------------------------------------------------------------ detection
@DATASETS.register_module()
class FrameWindowDataset(BaseDataset):
    """Whole videos with per-frame binary action labels, served as fixed-length windows (detection).

    Args:
        data_root (str): the corpus folder.
        features (str): ``'teacher/<name>'`` or ``'features/<name>'``.
        videos (Sequence[str] | str, optional): video ids, or a text file of ids (one per line); default: every
            video that has actions of ``splits``.
        splits (Sequence[str]): used when ``videos`` is None.
        window (int): window length in frames (250 in the reference).
        mode (str): ``'random'`` (training, reference section 8.2: ``num_windows`` windows per epoch, a video drawn
            with weight ``max(0, T - window)`` — videos not longer than the window are never used — a view drawn
            uniformly, the start uniform in ``[0, T - window)``) or ``'tiles'`` (validation: every video cut into
            consecutive windows, both views, deterministic; the last window may be shorter).
        num_windows (int): windows per epoch in ``'random'`` mode (5000 in the reference).
        pipeline (list): default ``[PackSequenceInputs]``.

    Labels come from every action of the video (all classes collapse into one), see :func:`frame_labels`.
    """

    METAINFO: dict = dict(classes=('background', 'action'))

    def __init__(self, data_root: str, features: str = 'teacher/pose2d', videos: Sequence[str] | str | None = None,
                 splits: Sequence[str] = ('train', 'val'), window: int = 250, mode: str = 'random',
                 num_windows: int = 5000, pipeline: Sequence[dict] = (dict(type='PackSequenceInputs'),),
                 test_mode: bool = False, **kwargs: Any) -> None:
        if mode not in ('random', 'tiles'):
            raise ValueError(f"mode must be 'random' or 'tiles', got {mode!r}")
        if window < 2:
            raise ValueError(f'window must be >= 2 frames, got {window}')
        self.corpus = Corpus(data_root)
        self.features, self.splits, self.window, self.mode = features, tuple(splits), int(window), mode
        self.num_windows = int(num_windows)
        if isinstance(videos, str):
            videos = self.corpus.read_id_list(videos)
        self.video_list = list(videos) if videos is not None else None
        self.skipped: list[tuple[str, str]] = []
        super().__init__(ann_file='', data_root=data_root, pipeline=_build_pipeline(pipeline), test_mode=test_mode,
                         serialize_data=False, **kwargs)

    def load_data_list(self) -> list[dict]:
        videos, self.skipped = load_video_sequences(self.corpus, self.features, self.video_list, self.splits)
        _log_skips(f'{type(self).__name__}({self.features})', self.skipped, len(videos) + len(self.skipped))
        if not videos:
            raise ValueError(f'no video with {self.features} features among the requested videos of '
                             f'{self.corpus.root}')
        data_list = [dict(video_id=v, feats=f, frame_labels=lab) for v, (f, lab) in videos.items()]
        lengths = np.array([len(d['frame_labels']) for d in data_list])
        if self.mode == 'random':
            weights = np.maximum(0, lengths - self.window).astype(np.float64)
            if weights.sum() == 0:
                raise ValueError(f'every training video has at most window={self.window} frames (longest '
                                 f'{lengths.max()}); use a smaller window')
            self._weights = weights / weights.sum()
        else:
            self._tiles = [(v, view, s) for v, n in enumerate(lengths) for view in (0, 1)
                           for s in range(0, int(n), self.window)]
        return data_list

    def __len__(self) -> int:
        self.full_init()
        return self.num_windows if self.mode == 'random' else len(self._tiles)

    def get_data_info(self, idx: int) -> dict:
        self.full_init()
        if self.mode == 'random':
            video = int(np.random.choice(len(self.data_list), p=self._weights))
            length = len(self.data_list[video]['frame_labels'])
            view = int(np.random.randint(2))
            start = int(np.random.randint(0, length - self.window))
        else:
            video, view, start = self._tiles[idx]
        info = self.data_list[video]
        end = start + self.window
        return dict(video_id=info['video_id'], feats=info['feats'][start:end], views=(view,),
                    frame_labels=info['frame_labels'][start:end], start=start, sample_idx=idx)


def load_video_sequences(corpus: Corpus, features: str, videos: Sequence[str] | None = None,
                         splits: Sequence[str] = ('train', 'val'),
                         ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[tuple[str, str]]]:
    """Dense feature sequences and per-frame labels of whole videos (detection).

    Args:
        corpus (Corpus): the corpus.
        features (str): ``'teacher/<name>'`` or ``'features/<name>'``.
        videos (Sequence[str], optional): video ids; default: the videos with actions of ``splits``.
        splits (Sequence[str]): see ``videos``.

    Returns:
        tuple: ``{video_id: ((T, 2, d) float32, (T,) int64 labels)}`` and the skipped ``[(video_id, reason)]``.
    """
    meta = corpus.read_meta()
    kind, name = _feature_folder(corpus, features)
    actions = corpus.read_actions()
    if videos is None:
        videos = sorted({a.video_id for a in actions if a.split in splits})
    by_video: dict[str, list[Action]] = {}
    for action in actions:
        by_video.setdefault(action.video_id, []).append(action)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    skipped: list[tuple[str, str]] = []
    for video_id in videos:
        path = corpus.feature_path(kind, name, video_id)
        if not osp.isfile(path):
            skipped.append((video_id, f'no feature file {kind}/{name}/{video_id}.npz'))
            continue
        track = corpus.read_features(kind, name, video_id)
        if not valid_rows(track.feats).any():
            skipped.append((video_id, 'no valid feature frame'))
            continue
        feats = dense_video_sequence(track)
        out[video_id] = (feats, frame_labels(by_video.get(video_id, []), len(feats), meta.sport,
                                             video_fps(meta, video_id)))
    return out, skipped
