"""The corpus layout: the on-disk contract between every stage of the pipeline (design.md section 2).

```
<corpus>/
  meta.json                         format_version, sport, classes, fps, splits, ...
  videos/<video_id>.<ext>           source video (or a symlink)
  tracks/<video_id>.json            athlete box per frame: [[frame, x, y, w, h], ...] (pixels)
  pose/<video_id>.npz               frames (T,) int32, keypoints (T,17,2) float32, scores (T,17), boxes (T,4)
  teacher/<name>/<video_id>.npz     frames (T,), feats (T,2,d) [original, mirrored] float32, scores (T,)
  features/<name>/<video_id>.npz    same format as teacher/
  annotations/actions.json          [{id, video_id, start, end, label, split}] (frames, end exclusive)
  annotations/fewshot/<k>_<trial>.txt   action ids, one per line
```

Every write is atomic (a temporary file in the same folder, then ``os.replace``), so a killed job leaves either
the old file or the new one, and "the output file exists" means "the output is complete". Every read validates
and raises :class:`CorpusFormatError` naming the file and the field. Only npz (without pickle), JSON and text
files are written.
"""
from __future__ import annotations

import json
import os
import os.path as osp
import zipfile
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from .atomic import atomic_write_bytes
from .crop_store import CropStore
from .errors import CorpusFormatError, MissingStageError

FORMAT_VERSION = 1
SPLITS = ('train', 'val', 'test')
VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.avi', '.mov', '.webm')

__all__ = [
    'FORMAT_VERSION', 'SPLITS', 'STAGE_OUTPUTS', 'CorpusFormatError', 'MissingStageError', 'CorpusMeta', 'Track', 'PoseTrack', 'FeatureTrack',
    'Action', 'Corpus', 'atomic_write_bytes'
]


def _write_json(path: str, obj: Any) -> None:
    data = json.dumps(obj, indent=1).encode()
    atomic_write_bytes(path, lambda f: f.write(data))


def _read_json(path: str) -> Any:
    if not osp.isfile(path):
        raise CorpusFormatError(path, 'file', 'does not exist')
    try:
        with open(path) as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CorpusFormatError(path, 'file', f'not valid JSON ({error})') from None


def _write_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
    atomic_write_bytes(path, lambda f: np.savez(f, **arrays))


def _read_npz(path: str, fields: Sequence[str]) -> dict[str, np.ndarray]:
    if not osp.isfile(path):
        raise CorpusFormatError(path, 'file', 'does not exist')
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [name for name in fields if name not in data.files]
            if missing:
                raise CorpusFormatError(path, missing[0], 'missing')
            return {name: data[name] for name in fields}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        if isinstance(error, CorpusFormatError):
            raise
        raise CorpusFormatError(path, 'file', f'not a readable npz file ({error})') from None


# ------------------------------------------------------------------------------------------------ validation
def _check_frames(path: str, frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 1:
        raise CorpusFormatError(path, 'frames', f'expected shape (T,), got {frames.shape}')
    if frames.size and not np.issubdtype(frames.dtype, np.integer):
        raise CorpusFormatError(path, 'frames', f'expected integers, got {frames.dtype}')
    if frames.size and (np.diff(frames) <= 0).any():
        bad = int(np.argmax(np.diff(frames) <= 0))
        raise CorpusFormatError(path, 'frames', f'not strictly increasing at index {bad + 1} '
                                f'({int(frames[bad])} then {int(frames[bad + 1])})')
    if frames.size and frames[0] < 0:
        raise CorpusFormatError(path, 'frames', f'negative frame number {int(frames[0])}')
    return frames.astype(np.int32)


def _check_shape(path: str, name: str, array: np.ndarray, shape: tuple[int | None, ...]) -> np.ndarray:
    array = np.asarray(array)
    ok = array.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, array.shape))
    if not ok:
        want = '(' + ', '.join('?' if s is None else str(s) for s in shape) + ')'
        raise CorpusFormatError(path, name, f'expected shape {want}, got {tuple(array.shape)}')
    return array


def _check_boxes(path: str, name: str, boxes: np.ndarray) -> None:
    if not np.isfinite(boxes).all():
        row = int(np.argmax(~np.isfinite(boxes).all(axis=-1)))
        raise CorpusFormatError(path, name, f'non-finite box at index {row}')
    if (boxes[:, 2:] < 0).any():
        row = int(np.argmax((boxes[:, 2:] < 0).any(axis=-1)))
        raise CorpusFormatError(path, name, f'negative width or height at index {row}')


# ------------------------------------------------------------------------------------------------ records
@dataclass
class CorpusMeta:
    """``meta.json``: what the corpus holds.

    Args:
        sport (str): sport or benchmark name, e.g. ``'fsjump6'``.
        classes (list[str]): action class names; labels in ``actions.json`` must be among them.
        fps (float): nominal frame rate of the videos (per-video rates may differ; downstream subsampling
            policy is ``max_fps``).
        max_fps (float): downstream sequences are subsampled to at most this rate.
        splits (list[str]): splits present in ``actions.json``.
        min_pose_score (float): teacher confidence threshold for distillation (0.5; 0.7 for tennis).
        extra (dict): anything else the converter wants to keep.
    """

    sport: str
    classes: list[str]
    fps: float = 25.0
    max_fps: float = 25.0
    splits: list[str] = field(default_factory=lambda: list(SPLITS))
    min_pose_score: float = 0.5
    extra: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION


@dataclass
class Track:
    """``tracks/<video_id>.json``: the athlete box per tracked frame.

    Args:
        frames (np.ndarray): (T,) int32, strictly increasing frame numbers.
        boxes (np.ndarray): (T, 4) float32 ``[x, y, w, h]`` in pixels (top-left corner and size).
    """

    frames: np.ndarray
    boxes: np.ndarray


@dataclass
class PoseTrack:
    """``pose/<video_id>.npz``: the raw 2D pose of the tracked athlete.

    Args:
        frames (np.ndarray): (T,) int32, strictly increasing.
        keypoints (np.ndarray): (T, 17, 2) float32 pixels, COCO-17 order; NaN where the estimator gave nothing.
        scores (np.ndarray): (T, 17) float32 confidences in [0, 1] (NaN or 0 where keypoints are NaN).
        boxes (np.ndarray): (T, 4) float32 ``[x, y, w, h]`` box the estimator ran on.
    """

    frames: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray


@dataclass
class FeatureTrack:
    """``teacher/<name>/<video_id>.npz`` and ``features/<name>/<video_id>.npz``: per-frame features.

    Args:
        frames (np.ndarray): (T,) int32, strictly increasing.
        feats (np.ndarray): (T, 2, d) float32, row 0 the original frame and row 1 the mirrored one.
        scores (np.ndarray): (T,) float32 teacher confidence (students keep their teacher's scores or NaN).
    """

    frames: np.ndarray
    feats: np.ndarray
    scores: np.ndarray

    @property
    def dim(self) -> int:
        """Feature dimension d."""
        return int(self.feats.shape[-1])


@dataclass
class Action:
    """One labelled action in ``annotations/actions.json``; frames ``[start, end)`` of ``video_id``."""

    id: str
    video_id: str
    start: int
    end: int
    label: str
    split: str


def video_frames(meta: CorpusMeta) -> dict[str, int]:
    """Frame counts of the videos whose length is known (``meta.json`` ``extra.video_frames``, written by the
    tools that made the corpus from videos they read); actions must end within them."""
    known = meta.extra.get('video_frames') or {}
    if not isinstance(known, dict):
        return {}
    return {str(v): int(n) for v, n in known.items() if isinstance(n, (int, float)) and not isinstance(n, bool)}


# ------------------------------------------------------------------------------------------------ the corpus
NEW_CORPUS_HINT = 'make one with tools/data/prepare_videos.py or a tools/data/prepare_<dataset>.py tool'
"""What to run when a folder is not a corpus yet."""

STAGE_OUTPUTS = {
    'videos': ('videos', 'tools/data/prepare_videos.py or a tools/data/prepare_<dataset>.py tool'),
    'tracks': ('athlete tracks', 'tools/data/prepare_videos.py --track, or a prepare tool with published boxes'),
    'pose': ('pose files', 'tools/data/extract_pose.py CORPUS or tools/data/extract_pose_mediapipe.py CORPUS'),
    'crops': ('crops', 'tools/data/extract_crops.py CORPUS'),
    'flow': ('optical flow', 'tools/data/extract_flow.py CORPUS'),
    'teacher': ('teacher features', 'tools/extract_teacher.py CORPUS --teacher ...'),
    'features': ('student features', 'tools/extract_features.py CONFIG CHECKPOINT --corpus CORPUS --name NAME'),
}
"""Stage folder -> (what it holds, the tool that writes it), for :class:`MissingStageError` messages."""


class Corpus:
    """Reader/writer of one corpus folder.

    Args:
        root (str): the corpus folder.

    Example:
        >>> corpus = Corpus('data/fsjump6')
        >>> pose = corpus.read_pose('some_video')   # PoseTrack, validated
        >>> corpus.write_features('features', 'vi_vpd', 'some_video', track)  # atomic
        >>> corpus.crops.read_crops('some_video', 12)  # crops/ and flow/ through the corpus's own store
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.crops = CropStore(root)

    @classmethod
    def open(cls, root: str) -> 'Corpus':
        """The corpus at ``root``, after checking that it is one: the folder exists and ``meta.json`` is valid
        JSON of this format version (:meth:`read_meta`). Every tool opens its corpus this way.

        Raises:
            CorpusFormatError: no folder, no ``meta.json``, or a ``meta.json`` this version cannot read.
        """
        if not osp.isdir(root):
            raise CorpusFormatError(root, 'folder', 'does not exist', hint=NEW_CORPUS_HINT)
        if not osp.isfile(osp.join(root, 'meta.json')):
            raise CorpusFormatError(osp.join(root, 'meta.json'), 'file', 'missing: this folder is not a corpus',
                                    hint=NEW_CORPUS_HINT)
        corpus = cls(root)
        corpus.read_meta()
        return corpus

    def require(self, folder: str) -> None:
        """Check that a stage's output folder (``'tracks'``, ``'pose'``, ``'crops'``, ``'flow'``,
        ``'teacher/<name>'``, ``'features/<name>'``) exists and holds files.

        Raises:
            MissingStageError: it does not; the message names the tool that makes it.
        """
        path = self.path(folder)
        stage = folder.split('/')[0]
        if not osp.isdir(path) or not any(not n.startswith('.') for n in os.listdir(path)):
            raise MissingStageError(path, STAGE_OUTPUTS.get(stage, (folder, 'the stage that writes it'))[0],
                                    STAGE_OUTPUTS.get(stage, (folder, 'the stage that writes it'))[1])

    # paths -------------------------------------------------------------------------------------------------
    def path(self, *parts: str) -> str:
        """A path inside the corpus."""
        return osp.join(self.root, *parts)

    def video_path(self, video_id: str) -> str:
        """The source video of ``video_id`` (any known extension); raises if there is none."""
        for ext in VIDEO_EXTENSIONS:
            candidate = self.path('videos', video_id + ext)
            if osp.exists(candidate):
                return candidate
        raise CorpusFormatError(self.path('videos', video_id + '.*'), 'file', 'no video with a known extension')

    def feature_path(self, kind: str, name: str, video_id: str) -> str:
        """``<kind>/<name>/<video_id>.npz`` with ``kind`` in {'teacher', 'features'}."""
        if kind not in ('teacher', 'features'):
            raise ValueError(f"kind must be 'teacher' or 'features', got {kind!r}")
        return self.path(kind, name, video_id + '.npz')

    def list_ids(self, folder: str, ext: str) -> list[str]:
        """Sorted ids of the files ``<folder>/*<ext>`` (temporary files excluded)."""
        folder_path = self.path(folder)
        if not osp.isdir(folder_path):
            return []
        return sorted(name[:-len(ext)] for name in os.listdir(folder_path)
                      if name.endswith(ext) and not name.startswith('.'))

    def video_ids(self) -> list[str]:
        """Ids of the videos that have a track."""
        return self.list_ids('tracks', '.json')

    # meta --------------------------------------------------------------------------------------------------
    def write_meta(self, meta: CorpusMeta) -> None:
        """Write ``meta.json``."""
        _write_json(self.path('meta.json'), asdict(meta))

    def read_meta(self) -> CorpusMeta:
        """Read and validate ``meta.json`` (format version, classes)."""
        path = self.path('meta.json')
        raw = _read_json(path)
        if not isinstance(raw, dict):
            raise CorpusFormatError(path, 'file', 'expected a JSON object')
        version = raw.get('format_version')
        if version != FORMAT_VERSION:
            raise CorpusFormatError(path, 'format_version',
                                    f'this vpd_mm reads version {FORMAT_VERSION}, the file has {version!r}')
        for name in ('sport', 'classes'):
            if name not in raw:
                raise CorpusFormatError(path, name, 'missing')
        classes = raw['classes']
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            raise CorpusFormatError(path, 'classes', 'expected a list of class names')
        if len(set(classes)) != len(classes):
            raise CorpusFormatError(path, 'classes', 'duplicate class names')
        known = set(CorpusMeta.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise CorpusFormatError(path, unknown[0], 'unknown field')
        return CorpusMeta(**raw)

    # tracks ------------------------------------------------------------------------------------------------
    def write_track(self, video_id: str, track: Track) -> None:
        """Write ``tracks/<video_id>.json``."""
        path = self.path('tracks', video_id + '.json')
        frames = _check_frames(path, track.frames)
        boxes = _check_shape(path, 'boxes', track.boxes, (len(frames), 4)).astype(np.float64)
        _check_boxes(path, 'boxes', boxes)
        rows = [[int(f), *(round(float(v), 3) for v in box)] for f, box in zip(frames, boxes)]
        _write_json(path, rows)

    def read_track(self, video_id: str) -> Track:
        """Read and validate ``tracks/<video_id>.json``."""
        path = self.path('tracks', video_id + '.json')
        rows = _read_json(path)
        if not isinstance(rows, list) or any(not isinstance(r, list) or len(r) != 5 for r in rows):
            raise CorpusFormatError(path, 'rows', 'expected a list of [frame, x, y, w, h]')
        try:
            table = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
        except (TypeError, ValueError):
            raise CorpusFormatError(path, 'rows', 'expected numbers in every [frame, x, y, w, h]') from None
        if (table[:, 0] != np.round(table[:, 0])).any():
            raise CorpusFormatError(path, 'frames', 'frame numbers must be integers')
        frames = _check_frames(path, table[:, 0].astype(np.int64))
        boxes = table[:, 1:]
        _check_boxes(path, 'boxes', boxes)
        return Track(frames, boxes.astype(np.float32))

    # pose --------------------------------------------------------------------------------------------------
    def write_pose(self, video_id: str, pose: PoseTrack, folder: str = 'pose') -> None:
        """Write ``<folder>/<video_id>.npz`` (``pose/``, or ``pose_mirror/``) after validating shapes."""
        path = self.path(folder, video_id + '.npz')
        pose = self.validate_pose(path, pose)
        _write_npz(path, asdict(pose))

    def read_pose(self, video_id: str, folder: str = 'pose') -> PoseTrack:
        """Read and validate ``<folder>/<video_id>.npz`` (``pose/``, or ``pose_mirror/``)."""
        path = self.path(folder, video_id + '.npz')
        return self.validate_pose(path, PoseTrack(**_read_npz(path, ('frames', 'keypoints', 'scores', 'boxes'))))

    @staticmethod
    def validate_pose(path: str, pose: PoseTrack) -> PoseTrack:
        """Check a PoseTrack's shapes, frames, boxes and scores; ``path`` names the file in errors."""
        frames = _check_frames(path, pose.frames)
        n = len(frames)
        keypoints = _check_shape(path, 'keypoints', pose.keypoints, (n, 17, 2)).astype(np.float32)
        scores = _check_shape(path, 'scores', pose.scores, (n, 17)).astype(np.float32)
        boxes = _check_shape(path, 'boxes', pose.boxes, (n, 4)).astype(np.float32)
        _check_boxes(path, 'boxes', boxes)
        finite = scores[np.isfinite(scores)]
        if finite.size and (finite.min() < 0 or finite.max() > 1):
            raise CorpusFormatError(path, 'scores', f'outside [0, 1] (min {finite.min()}, max {finite.max()})')
        return PoseTrack(frames, keypoints, scores, boxes)

    # teacher / student features ----------------------------------------------------------------------------
    def write_features(self, kind: str, name: str, video_id: str, track: FeatureTrack) -> None:
        """Write ``<kind>/<name>/<video_id>.npz`` (kind: 'teacher' or 'features')."""
        path = self.feature_path(kind, name, video_id)
        _write_npz(path, asdict(self._validate_features(path, track)))

    def read_features(self, kind: str, name: str, video_id: str) -> FeatureTrack:
        """Read and validate ``<kind>/<name>/<video_id>.npz``."""
        path = self.feature_path(kind, name, video_id)
        return self._validate_features(path, FeatureTrack(**_read_npz(path, ('frames', 'feats', 'scores'))))

    def feature_ids(self, kind: str, name: str) -> list[str]:
        """Videos that have ``<kind>/<name>/`` features."""
        return self.list_ids(osp.join(kind, name), '.npz')

    @staticmethod
    def _validate_features(path: str, track: FeatureTrack) -> FeatureTrack:
        frames = _check_frames(path, track.frames)
        feats = _check_shape(path, 'feats', track.feats, (len(frames), 2, None)).astype(np.float32)
        scores = _check_shape(path, 'scores', track.scores, (len(frames),)).astype(np.float32)
        return FeatureTrack(frames, feats, scores)

    # actions -----------------------------------------------------------------------------------------------
    def write_actions(self, actions: Sequence[Action], classes: Sequence[str] | None = None) -> None:
        """Write ``annotations/actions.json`` after validating (unique ids, ``start < end``, known labels)."""
        path = self.path('annotations', 'actions.json')
        meta = self.read_meta() if classes is None or osp.isfile(self.path('meta.json')) else None
        if classes is None:
            classes = meta.classes
        self._validate_actions(path, list(actions), classes, video_frames(meta) if meta else {})
        _write_json(path, [asdict(a) for a in actions])

    def read_actions(self, split: str | None = None) -> list[Action]:
        """Read and validate ``annotations/actions.json``; optionally only one split."""
        path = self.path('annotations', 'actions.json')
        raw = _read_json(path)
        if not isinstance(raw, list):
            raise CorpusFormatError(path, 'file', 'expected a list of actions')
        actions = []
        for index, item in enumerate(raw):
            try:
                actions.append(Action(**item))
            except TypeError as error:
                raise CorpusFormatError(path, f'[{index}]', f'bad action record ({error})') from None
        meta = self.read_meta()
        self._validate_actions(path, actions, meta.classes, video_frames(meta))
        if split is not None:
            if split not in SPLITS:
                raise ValueError(f'unknown split {split!r}; expected one of {SPLITS}')
            actions = [a for a in actions if a.split == split]
        return actions

    @staticmethod
    def _validate_actions(path: str, actions: list[Action], classes: Sequence[str],
                          lengths: dict[str, int]) -> None:
        known = set(classes)
        seen: set[str] = set()
        for index, action in enumerate(actions):
            where = f'[{index}] (id {action.id!r})'
            if action.id in seen:
                raise CorpusFormatError(path, f'{where}.id', 'duplicate id')
            seen.add(action.id)
            if action.label not in known:
                raise CorpusFormatError(path, f'{where}.label', f'unknown label {action.label!r}; '
                                        f'meta.json classes are {sorted(known)}')
            if action.split not in SPLITS:
                raise CorpusFormatError(path, f'{where}.split', f'unknown split {action.split!r}')
            if not (isinstance(action.start, int) and isinstance(action.end, int)) or action.start >= action.end:
                raise CorpusFormatError(path, f'{where}.start/end',
                                        f'need integer frames with start < end, got {action.start}, {action.end}')
            if action.start < 0:
                raise CorpusFormatError(path, f'{where}.start', f'negative frame {action.start}')
            length = lengths.get(action.video_id)
            if length is not None and action.end > length:
                raise CorpusFormatError(path, f'{where}.end', f'frame {action.end} is past the end of video '
                                        f'{action.video_id!r} ({length} frames, meta.json extra.video_frames)')

    # few-shot id lists -------------------------------------------------------------------------------------
    def fewshot_path(self, k: int, trial: int) -> str:
        """``annotations/fewshot/<k>_<trial>.txt``."""
        return self.path('annotations', 'fewshot', f'{k}_{trial}.txt')

    def write_id_list(self, path: str, ids: Sequence[str]) -> None:
        """Write one id per line (atomic)."""
        data = ''.join(f'{i}\n' for i in ids).encode()
        atomic_write_bytes(path, lambda f: f.write(data))

    def read_id_list(self, path: str) -> list[str]:
        """Read one id per line (blank lines skipped; the last newline optional, as in published lists)."""
        if not osp.isfile(path):
            raise CorpusFormatError(path, 'file', 'does not exist')
        with open(path) as f:
            return [line.strip() for line in f if line.strip()]

    def iter_pose(self) -> Iterator[tuple[str, PoseTrack]]:
        """``(video_id, PoseTrack)`` for every video with a pose file."""
        for video_id in self.list_ids('pose', '.npz'):
            yield video_id, self.read_pose(video_id)
