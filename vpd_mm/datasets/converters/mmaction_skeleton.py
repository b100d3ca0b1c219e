"""Import 2D poses from mmaction2 / pyskl skeleton annotation pickles (``spec/mm_conventions.md`` section 3.1),
e.g. mmaction2's ``gym_2d.pkl`` (FineGym, HRNet on ground-truth boxes) or pyskl's ``diving48_hrnet.pkl``.

The file is ``dict(split=..., annotations=[anno, ...])`` or a plain list of annos; each anno has ``frame_dir``
(or ``filename``), ``total_frames`` (T), ``img_shape`` (H, W), ``keypoint`` ``(M, T, 17, 2)`` pixels and
``keypoint_score`` ``(M, T, 17)`` (or a third keypoint channel holding the score). It is third-party input: it
is read with an unpickler that only builds numpy arrays and plain containers (anything else is refused), and
never written (our own export is :mod:`vpd_mm.datasets.pose_export`).

Rules, documented for the docs:

- Where the anno goes: ``frame_dir`` naming a corpus video gives frames ``0 .. T-1`` of that video (Diving48
  clips, FX event clips); ``frame_dir`` naming an action (e.g. a FineGym element ``<event>_A_<a>_<b>``, trimmed
  by mmaction2's ``trim_subaction.py``) gives frames ``action.start + t`` of the action's video (the trimmed clip
  may start a frame earlier or later than our ``floor(t0 * fps)``; not correctable from the pickle). Annos naming
  neither are skipped and counted. Several annos of one video are merged; where they overlap, the first anno's
  frame is kept (counted).
- Which person: ``person='best'`` (default) takes, per anno, the person with the highest total keypoint score
  over the clip (one identity for the whole clip, never a per-frame switch); ``person='first'`` takes person 0.
- Frames where the chosen person has all scores 0 (mmaction2's padding for "no person") are left out of the pose
  file (not tracked). The pose box is the bounding box of the joints with score > 0 (the pickles carry no boxes);
  no ``tracks/`` file is written (crops need the tracker's boxes, e.g. ``boxes.json``).
- Coordinates are rescaled from the anno's ``img_shape`` to the corpus video's size when both are known and
  differ (``meta.extra['video_size']`` or the nominal ``height``/``width``); otherwise kept.
- Videos whose pose file exists are skipped (``overwrite=False``).
"""
from __future__ import annotations

import os.path as osp
import pickle
from typing import Any

import numpy as np
from tqdm import tqdm

from ...corpus.corpus import Corpus, PoseTrack
from .common import LabelFileError
from .published import ImportSummary

__all__ = ['load_skeleton_pickle', 'select_person', 'anno_to_frames', 'import_skeleton_pickle']

_ALLOWED = {
    ('numpy', 'ndarray'), ('numpy', 'dtype'), ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'), ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'), ('numpy._core.numeric', '_frombuffer'), ('numpy.core.numeric', '_frombuffer'),
    ('collections', 'OrderedDict'), ('builtins', 'slice'), ('builtins', 'tuple'), ('builtins', 'list'),
    ('builtins', 'dict'), ('builtins', 'set'), ('builtins', 'frozenset'), ('builtins', 'bytearray'),
    ('copyreg', '_reconstructor'), ('builtins', 'object'),
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'refusing to load {module}.{name} (only numpy arrays and containers)')


def load_skeleton_pickle(path: str) -> list[dict]:
    """The list of annos of an mmaction2 skeleton pickle (split dict or plain list).

    Raises:
        LabelFileError: unreadable file, foreign objects, or not the skeleton annotation layout.
    """
    try:
        with open(path, 'rb') as f:
            data = _ArrayUnpickler(f).load()
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError) as error:
        raise LabelFileError(path, None, f'not a readable skeleton pickle ({error})') from None
    annos = data.get('annotations') if isinstance(data, dict) else data
    if not isinstance(annos, list) or not all(isinstance(a, dict) for a in annos):
        raise LabelFileError(path, None, "expected dict(split=..., annotations=[...]) or a list of annotation dicts")
    return annos


def select_person(scores: np.ndarray, person: str) -> int:
    """Index of the person to keep from ``(M, T, V)`` scores: ``'first'`` -> 0, ``'best'`` -> the largest total
    score (ties: the lowest index)."""
    if person == 'first':
        return 0
    if person != 'best':
        raise ValueError(f"person must be 'best' or 'first', got {person!r}")
    return int(np.argmax(np.nan_to_num(scores, nan=0.0).reshape(len(scores), -1).sum(axis=1)))


def anno_to_frames(anno: dict, path: str, index: int, person: str = 'best'
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One anno -> ``(t, keypoints (N, 17, 2), scores (N, 17), boxes (N, 4))`` of the frames with a person.

    Raises:
        LabelFileError: missing keys, wrong shapes, ``total_frames`` not matching the keypoints (names the anno).
    """
    where = f'annotation {index} ({anno.get("frame_dir", anno.get("filename"))!r})'
    keypoint = anno.get('keypoint')
    if not isinstance(keypoint, np.ndarray) or keypoint.ndim != 4 or keypoint.shape[2] != 17 \
            or keypoint.shape[3] < 2:
        shape = getattr(keypoint, 'shape', None)
        raise LabelFileError(path, where, f'keypoint must be an (M, T, 17, 2) array (COCO-17), got {shape}')
    score = anno.get('keypoint_score')
    if score is None:
        if keypoint.shape[3] < 3:
            raise LabelFileError(path, where, 'no keypoint_score and no score channel in keypoint')
        score = keypoint[..., 2]
    score = np.asarray(score, dtype=np.float64)
    if score.shape != keypoint.shape[:3]:
        raise LabelFileError(path, where, f'keypoint_score shape {score.shape} does not match keypoint '
                             f'{keypoint.shape[:3]}')
    total = anno.get('total_frames', keypoint.shape[1])
    if total != keypoint.shape[1]:
        raise LabelFileError(path, where, f'total_frames {total} != keypoint frames {keypoint.shape[1]}')
    if keypoint.shape[0] == 0:
        empty = np.zeros((0,), np.int64)
        return empty, np.zeros((0, 17, 2)), np.zeros((0, 17)), np.zeros((0, 4))
    m = select_person(score, person)
    kp = keypoint[m, :, :, :2].astype(np.float64)
    sc = np.clip(np.nan_to_num(score[m], nan=0.0), 0.0, 1.0)
    present = (sc > 0).any(axis=1)
    t = np.flatnonzero(present)
    kp, sc = kp[present], sc[present]
    visible = sc > 0
    xs = np.where(visible, kp[..., 0], np.nan)
    ys = np.where(visible, kp[..., 1], np.nan)
    x0, y0 = np.nanmin(xs, axis=1), np.nanmin(ys, axis=1)
    boxes = np.stack([x0, y0, np.nanmax(xs, axis=1) - x0, np.nanmax(ys, axis=1) - y0], axis=1)
    return t, kp, sc, boxes


def _video_size(extra: dict, video_id: str) -> tuple[int, int] | None:
    size = extra.get('video_size', {}).get(video_id)
    if size is not None:
        return int(size[0]), int(size[1])
    if 'height' in extra and 'width' in extra:
        return int(extra['height']), int(extra['width'])
    return None


def import_skeleton_pickle(corpus: Corpus, path: str, person: str = 'best', overwrite: bool = False
                           ) -> ImportSummary:
    """Import the poses of an mmaction2 skeleton pickle into ``pose/`` (module docstring rules).

    Args:
        corpus (Corpus): the target corpus (with ``annotations/actions.json`` to place action-level annos).
        path (str): the pickle.
        person (str): ``'best'`` or ``'first'``.
        overwrite (bool): rewrite existing pose files.

    Returns:
        ImportSummary: videos written / present; skipped annos (unknown ``frame_dir``, overlaps) by reason.

    Raises:
        LabelFileError: an unreadable pickle or a malformed anno (names the file and anno).
    """
    summary = ImportSummary()
    summary.skips.what = 'annotation'
    annos = load_skeleton_pickle(path)
    actions = {a.id: a for a in corpus.read_actions()} if osp.isfile(corpus.path('annotations', 'actions.json')) \
        else {}
    videos = {a.video_id for a in actions.values()} | set(corpus.video_ids()) | set(corpus.list_ids('pose', '.npz'))
    extra = corpus.read_meta().extra if osp.isfile(corpus.path('meta.json')) else {}
    grouped: dict[str, list[tuple[int, dict, int]]] = {}
    for index, anno in enumerate(annos):
        name = anno.get('filename', anno.get('frame_dir'))
        if name in videos:
            grouped.setdefault(name, []).append((0, anno, index))
        elif name in actions:
            grouped.setdefault(actions[name].video_id, []).append((actions[name].start, anno, index))
        else:
            summary.skips.skip('frame_dir is neither a corpus video nor an action', str(name))
    for video_id, items in tqdm(sorted(grouped.items()), desc='importing skeleton poses', disable=None):
        if not overwrite and osp.exists(corpus.path('pose', video_id + '.npz')):
            summary.existing.append(video_id)
            continue
        size = _video_size(extra, video_id)
        frames: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for offset, anno, index in items:
            t, kp, sc, boxes = anno_to_frames(anno, path, index, person)
            shape = anno.get('img_shape')
            if size is not None and shape is not None and tuple(int(s) for s in shape) != size:
                scale = np.array([size[1] / float(shape[1]), size[0] / float(shape[0])])
                kp = kp * scale
                boxes = boxes * np.concatenate([scale, scale])
            for row, frame in enumerate(t + offset):
                if frame in frames:
                    summary.skips.skip('frame already given by an earlier annotation', f'{video_id}:{frame}')
                    continue
                frames[int(frame)] = (kp[row], sc[row], boxes[row])
        if not frames:
            summary.skips.skip('no frame with a person', video_id)
            continue
        order = np.array(sorted(frames), dtype=np.int32)
        n = len(order)
        corpus.write_pose(video_id, PoseTrack(
            order, np.array([frames[f][0] for f in order], np.float32).reshape(n, 17, 2),
            np.array([frames[f][1] for f in order], np.float32).reshape(n, 17),
            np.array([frames[f][2] for f in order], np.float32).reshape(n, 4)))
        summary.written.append(video_id)
    return summary
