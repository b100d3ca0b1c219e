"""Export corpus poses to mmaction2's ``PoseDataset`` annotation file, so that ST-GCN / MS-G3D baselines read
exactly the poses the VPD teachers read.

The file is mmaction2's own format, a pickle (mmaction2's ``PoseDataset`` loads nothing else); it is an export
for interoperability only; the corpus keeps its poses in ``pose/*.npz``::

    {'split': {'train': [id, ...], 'val': [...], 'test': [...]},
     'annotations': [{'frame_dir': action_id, 'label': int, 'img_shape': (H, W), 'original_shape': (H, W),
                      'total_frames': T, 'keypoint': (1, T, 17, 2) float32, 'keypoint_score': (1, T, 17) float32}]}

Frames of an action without a pose (not tracked, or NaN joints) are all zeros with score 0, which mmaction2's
GCN pipeline treats as "person absent".
"""
from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from .corpus import Corpus, PoseTrack, atomic_write_bytes

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


def corpus_to_pose_dataset(corpus: Corpus, img_shape: tuple[int, int] | None = None) -> dict[str, Any]:
    """Build the ``PoseDataset`` annotation dict of every action in the corpus.

    Args:
        corpus (Corpus): the corpus (needs ``meta.json``, ``annotations/actions.json`` and ``pose/``).
        img_shape (tuple[int, int], optional): (H, W) of the videos; defaults to ``meta.extra['height'/'width']``.

    Returns:
        dict: ``{'split': ..., 'annotations': ...}`` as described in the module docstring.
    """
    meta = corpus.read_meta()
    if img_shape is None:
        if 'height' not in meta.extra or 'width' not in meta.extra:
            raise ValueError(f'{corpus.path("meta.json")}: extra.height/extra.width missing; pass img_shape')
        img_shape = (int(meta.extra['height']), int(meta.extra['width']))
    label_index = {name: i for i, name in enumerate(meta.classes)}
    poses: dict[str, PoseTrack] = {}
    split: dict[str, list[str]] = {}
    annotations = []
    for action in corpus.read_actions():
        if action.video_id not in poses:
            poses[action.video_id] = corpus.read_pose(action.video_id)
        keypoint, score = _action_keypoints(poses[action.video_id], action.start, action.end)
        split.setdefault(action.split, []).append(action.id)
        annotations.append(dict(frame_dir=action.id, label=label_index[action.label], img_shape=img_shape,
                                original_shape=img_shape, total_frames=action.end - action.start,
                                keypoint=keypoint, keypoint_score=score))
    return dict(split=split, annotations=annotations)


def write_pose_dataset(corpus: Corpus, out_file: str, img_shape: tuple[int, int] | None = None) -> dict[str, Any]:
    """Write :func:`corpus_to_pose_dataset` to ``out_file`` (atomic) and return it."""
    data = corpus_to_pose_dataset(corpus, img_shape)
    payload = pickle.dumps(data, protocol=4)
    atomic_write_bytes(out_file, lambda f: f.write(payload))
    return data
