"""Export corpus poses to mmaction2's ``PoseDataset`` annotation file, so that ST-GCN / MS-G3D baselines read
exactly the poses the VPD teachers read.

The file is mmaction2's own format, a pickle (mmaction2's ``PoseDataset`` loads nothing else); it is an export
for interoperability only; the corpus keeps its poses in ``pose/*.npz``::

    {'split': {'train': [id, ...], 'val': [...], 'test': [...]},
     'annotations': [{'frame_dir': action_id, 'label': int, 'img_shape': (H, W), 'original_shape': (H, W),
                      'total_frames': T, 'keypoint': (1, T, 17, 2) float32, 'keypoint_score': (1, T, 17) float32}]}

Frames of an action without a pose (not tracked, or NaN joints) are all zeros with score 0, which mmaction2's
GCN pipeline treats as "person absent".

``img_shape`` is per video where the converter recorded a size different from the corpus's usual one
(``meta.extra['video_size'][video_id] = [H, W]``, e.g. FX35's mixed resolutions), else ``meta.extra``'s
``height``/``width``. ``window='sport'`` exports the per-sport recognition window of each action
(:func:`vpd_mm.datasets.sequence.action_window`: e.g. tennis +-0.5 s around the one-frame contact action, figure
skating from 2.5 s before the jump's midpoint), clamped at frame 0, so ST-GCN / MS-G3D see the frames the BiGRU
sees; the default ``window='action'`` exports the action's own ``[start, end)``.
"""
from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from ..corpus.corpus import Corpus, PoseTrack, atomic_write_bytes

__all__ = ['corpus_to_pose_dataset', 'write_pose_dataset']


def _action_keypoints(pose: PoseTrack, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    length = end - start
    keypoint = np.zeros((1, length, 17, 2), np.float32)
    score = np.zeros((1, length, 17), np.float32)
    inside = (pose.frames >= start) & (pose.frames < end)
    rows = pose.frames[inside] - start
    kp, sc = pose.keypoints[inside], pose.scores[inside]
    valid = np.isfinite(kp).all(axis=(1, 2)) & np.isfinite(sc).all(axis=1)
    keypoint[0, rows[valid]] = kp[valid]
    score[0, rows[valid]] = sc[valid]
    return keypoint, score


def corpus_to_pose_dataset(corpus: Corpus, img_shape: tuple[int, int] | None = None,
                           window: str = 'action') -> dict[str, Any]:
    """Build the ``PoseDataset`` annotation dict of every action in the corpus.

    Args:
        corpus (Corpus): the corpus (needs ``meta.json``, ``annotations/actions.json`` and ``pose/``).
        img_shape (tuple[int, int], optional): (H, W) of every video; defaults to the per-video
            ``meta.extra['video_size']``, else ``meta.extra['height'/'width']``.
        window (str): ``'action'`` (the action's frames) or ``'sport'`` (the per-sport recognition window).

    Returns:
        dict: ``{'split': ..., 'annotations': ...}`` as described in the module docstring.
    """
    meta = corpus.read_meta()
    sizes: dict[str, Any] = {}
    if img_shape is None:
        sizes = dict(meta.extra.get('video_size', {}))
        if 'height' not in meta.extra or 'width' not in meta.extra:
            raise ValueError(f'{corpus.path("meta.json")}: extra.height/extra.width missing; pass img_shape')
        img_shape = (int(meta.extra['height']), int(meta.extra['width']))
    if window not in ('action', 'sport'):
        raise ValueError(f"window must be 'action' or 'sport', got {window!r}")
    label_index = {name: i for i, name in enumerate(meta.classes)}
    poses: dict[str, PoseTrack] = {}
    split: dict[str, list[str]] = {}
    annotations = []
    for action in corpus.read_actions():
        if action.video_id not in poses:
            poses[action.video_id] = corpus.read_pose(action.video_id)
        start, end = action.start, action.end
        if window == 'sport':
            from .sequence import action_window, video_fps  # the recognition windows live with the sequences
            start, end = action_window(action, meta.sport, video_fps(meta, action.video_id))
            start, end = max(0, start), max(end, start + 1)
        keypoint, score = _action_keypoints(poses[action.video_id], start, end)
        shape = tuple(int(v) for v in sizes[action.video_id]) if action.video_id in sizes else img_shape
        split.setdefault(action.split, []).append(action.id)
        annotations.append(dict(frame_dir=action.id, label=label_index[action.label], img_shape=shape,
                                original_shape=shape, total_frames=end - start,
                                keypoint=keypoint, keypoint_score=score))
    return dict(split=split, annotations=annotations)


def write_pose_dataset(corpus: Corpus, out_file: str, img_shape: tuple[int, int] | None = None,
                       window: str = 'action') -> dict[str, Any]:
    """Write :func:`corpus_to_pose_dataset` to ``out_file`` (atomic) and return it."""
    data = corpus_to_pose_dataset(corpus, img_shape, window)
    payload = pickle.dumps(data, protocol=4)
    atomic_write_bytes(out_file, lambda f: f.write(payload))
    return data
