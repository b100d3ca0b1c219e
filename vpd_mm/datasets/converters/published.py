"""Import athlete tracks and 2D poses published in the reference's format (``spec/reference_vpd.md`` section 1.1).

One folder per video, named by the video (routine, ``front__<clip>`` / ``back__<clip>``, event clip, Diving48
clip):

- ``boxes.json``: ``[[frame, [x, y, w, h]], ...]``, the tracked athlete box (pixels, top-left corner and size)
  -> ``tracks/<video>.json``.
- ``coco_keypoints.json.gz`` (gzip JSON): ``[[frame, [[det_score, [x, y, w, h], [[x, y, score] x 17]], ...]],
  ...]``, COCO-17 pixel keypoints -> ``pose/<video>.npz``.

(``mask.json.gz`` and ``meta.json`` are not read.) Rules, documented for the docs:

- The FIRST detection of a frame is the athlete, as in the reference (``pose_data[0]``); its box is the pose box.
- A frame listed with no detection keeps NaN keypoints and scores (the estimator saw nothing) and the tracked box
  of that frame; when ``boxes.json`` has no box there either, the frame is left out of the pose file (not
  tracked). Frames absent from ``coco_keypoints.json.gz`` are not in the pose file.
- Keypoint scores outside [0, 1] (HRNet heatmap maxima can exceed 1 slightly) are clipped, and counted.
- A malformed or unreadable file skips that video: counted, logged with the file and entry, the others go on.
- Videos whose outputs exist are skipped (``overwrite=False``), so a killed import resumes.
"""
from __future__ import annotations

import gzip
import json
import os
import os.path as osp
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from ...corpus.corpus import Corpus, CorpusFormatError, PoseTrack, Track
from .common import LabelFileError, SkipLog

__all__ = ['BOXES_FILE', 'KEYPOINTS_FILE', 'read_boxes_json', 'read_coco_keypoints', 'find_published_videos',
           'import_published', 'ImportSummary']

BOXES_FILE = 'boxes.json'
KEYPOINTS_FILE = 'coco_keypoints.json.gz'


@dataclass
class ImportSummary:
    """What an import did: videos written, already present, skipped (by reason), clipped scores."""

    written: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    skips: SkipLog = field(default_factory=lambda: SkipLog('video'))
    frames_left_out: int = 0
    scores_clipped: int = 0

    def line(self) -> str:
        """One summary line."""
        return (f'{len(self.written)} videos imported, {len(self.existing)} already present, '
                f'{self.skips.total} skipped, {self.frames_left_out} frames without detection or box left out, '
                f'{self.scores_clipped} keypoint scores clipped to [0, 1]')


def _box(value: Any) -> np.ndarray | None:
    try:
        box = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if box.shape != (4,) or not np.isfinite(box).all() or (box[2:] < 0).any():
        return None
    return box


def _frame(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
        return None
    return int(value)


def read_boxes_json(path: str) -> Track:
    """Read ``boxes.json`` into a :class:`Track` (sorted by frame).

    Raises:
        LabelFileError: not JSON, an entry that is not ``[frame, [x, y, w, h]]`` with a non-negative integer
            frame and a finite box of non-negative size, or a frame listed twice (names the entry).
    """
    try:
        with open(path, encoding='utf-8') as f:
            rows = json.load(f)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise LabelFileError(path, None, f'not readable JSON ({error})') from None
    if not isinstance(rows, list):
        raise LabelFileError(path, None, 'expected a list of [frame, [x, y, w, h]]')
    boxes: dict[int, np.ndarray] = {}
    for index, row in enumerate(rows):
        frame = _frame(row[0]) if isinstance(row, list) and len(row) == 2 else None
        box = _box(row[1]) if frame is not None else None
        if box is None:
            raise LabelFileError(path, f'entry {index}', f'expected [frame, [x, y, w, h]], got {row!r}'[:200])
        if frame in boxes:
            raise LabelFileError(path, f'entry {index}', f'frame {frame} listed twice')
        boxes[frame] = box  # type: ignore[index]
    frames = np.array(sorted(boxes), dtype=np.int32)
    return Track(frames, np.array([boxes[f] for f in frames], np.float32).reshape(-1, 4))


def read_coco_keypoints(path: str, track: Track | None = None) -> tuple[PoseTrack, int, int]:
    """Read ``coco_keypoints.json.gz`` into a :class:`PoseTrack` (module docstring rules).

    Args:
        path (str): the file.
        track (Track, optional): the tracked boxes, used for frames without a detection.

    Returns:
        tuple[PoseTrack, int, int]: the pose, frames left out (no detection and no box), scores clipped.

    Raises:
        LabelFileError: unreadable gzip/JSON, a malformed entry or detection, a frame listed twice.
    """
    try:
        with gzip.open(path, 'rt', encoding='ascii') as f:
            rows = json.load(f)
    except (OSError, EOFError, zlib.error, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise LabelFileError(path, None, f'not readable gzip JSON ({error})') from None
    if not isinstance(rows, list):
        raise LabelFileError(path, None, 'expected a list of [frame, [detection, ...]]')
    tracked = {} if track is None else {int(f): b for f, b in zip(track.frames, track.boxes)}
    entries: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    left_out = 0
    clipped = 0
    for index, row in enumerate(rows):
        where = f'entry {index}'
        frame = _frame(row[0]) if isinstance(row, list) and len(row) == 2 else None
        if frame is None or not isinstance(row[1], list):
            raise LabelFileError(path, where, f'expected [frame, [detection, ...]], got {row!r}'[:200])
        if frame in entries:
            raise LabelFileError(path, where, f'frame {frame} listed twice')
        if not row[1]:
            if frame not in tracked:
                left_out += 1
                continue
            entries[frame] = (np.full((17, 2), np.nan), np.full(17, np.nan), np.asarray(tracked[frame]))
            continue
        detection = row[1][0]
        try:
            _, det_box, keypoints = detection
            keypoints = np.asarray(keypoints, dtype=np.float64)
        except (TypeError, ValueError):
            raise LabelFileError(path, where, 'expected a detection [score, [x, y, w, h], [[x, y, s] x 17]]') \
                from None
        if keypoints.shape != (17, 3):
            raise LabelFileError(path, where, f'expected 17 keypoints [x, y, score], got shape {keypoints.shape}')
        box = _box(det_box)
        if box is None:
            box = tracked.get(frame)
            if box is None:
                raise LabelFileError(path, where, f'bad detection box {det_box!r} and no tracked box')
        scores = keypoints[:, 2]
        finite = np.isfinite(scores)
        outside = finite & ((scores < 0) | (scores > 1))
        clipped += int(outside.sum())
        scores = np.where(finite, np.clip(scores, 0.0, 1.0), np.nan)
        entries[frame] = (keypoints[:, :2], scores, np.asarray(box))
    frames = np.array(sorted(entries), dtype=np.int32)
    n = len(frames)
    pose = PoseTrack(frames,
                     np.array([entries[f][0] for f in frames], np.float32).reshape(n, 17, 2),
                     np.array([entries[f][1] for f in frames], np.float32).reshape(n, 17),
                     np.array([entries[f][2] for f in frames], np.float32).reshape(n, 4))
    return pose, left_out, clipped


def find_published_videos(folder: str) -> dict[str, str]:
    """Sub-folders of ``folder`` that hold ``boxes.json`` or ``coco_keypoints.json.gz``: ``video_id -> path``."""
    if not osp.isdir(folder):
        raise LabelFileError(folder, None, 'tracks folder does not exist')
    found = {}
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        if osp.isdir(path) and (osp.isfile(osp.join(path, BOXES_FILE)) or osp.isfile(osp.join(path, KEYPOINTS_FILE))):
            found[name] = path
    return found


def import_published(corpus: Corpus, folder: str, overwrite: bool = False,
                     video_ids: set[str] | None = None) -> ImportSummary:
    """Import every published video folder under ``folder`` into ``tracks/`` and ``pose/`` of the corpus.

    Args:
        corpus (Corpus): the target corpus.
        folder (str): the folder holding one sub-folder per video.
        overwrite (bool): rewrite videos whose outputs exist.
        video_ids (set[str], optional): only these videos (default: all found; videos without labelled actions
            are imported too, distillation uses them).

    Returns:
        ImportSummary: counts; per-video problems are skips naming the file and entry.
    """
    summary = ImportSummary()
    videos = find_published_videos(folder)
    if video_ids is not None:
        videos = {k: v for k, v in videos.items() if k in video_ids}
    for video_id, path in tqdm(videos.items(), desc='importing tracks and poses', disable=None):
        boxes_path, keypoints_path = osp.join(path, BOXES_FILE), osp.join(path, KEYPOINTS_FILE)
        outputs = []
        if osp.isfile(boxes_path):
            outputs.append(corpus.path('tracks', video_id + '.json'))
        if osp.isfile(keypoints_path):
            outputs.append(corpus.path('pose', video_id + '.npz'))
        if not overwrite and all(osp.exists(o) for o in outputs):
            summary.existing.append(video_id)
            continue
        try:
            track = read_boxes_json(boxes_path) if osp.isfile(boxes_path) else None
            if track is not None:
                corpus.write_track(video_id, track)
            if osp.isfile(keypoints_path):
                pose, left_out, clipped = read_coco_keypoints(keypoints_path, track)
                corpus.write_pose(video_id, pose)
                summary.frames_left_out += left_out
                summary.scores_clipped += clipped
        except (LabelFileError, CorpusFormatError) as error:
            summary.skips.skip(str(error), video_id)
            continue
        summary.written.append(video_id)
    return summary
