"""Skeleton inputs for the ST-GCN / MS-G3D baselines: each action's window of the corpus poses (``pose/*.npz``, the
poses the VPD teachers read) as an mmaction2 ``PoseDataset`` sample, built in memory.

The samples are exactly the annotation dicts of mmaction2's ``PoseDataset`` pickle (see
:mod:`vpd_mm.datasets.pose_export`), so mmaction2's GCN pipeline (``PreNormalize2D``, ``GenSkeFeat``,
``UniformSampleFrames``, ``PoseDecode``, ``FormatGCNInput``) runs on them unchanged. Building them from the corpus
rather than from the exported pickle lets the skeleton baselines use the per-sport windows (a Tennis7 action is
the single contact frame; its sample is the second around it), the class subsets, the validation carve and the
few-shot lists of the pose-feature models (:mod:`vpd_mm.datasets.baseline_actions`).

Frames of the window without a pose (not tracked, or a non-finite joint) are zeros with score 0, which mmaction2
treats as "person absent", as in the export.
"""
from __future__ import annotations

import os.path as osp
from typing import Any

import numpy as np
from mmaction.registry import DATASETS

from .baseline_actions import CorpusActionDataset
from ..corpus.corpus import Action, PoseTrack

__all__ = ['CorpusPoseDataset', 'window_keypoints']


def window_keypoints(pose: PoseTrack, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """The keypoints of frames ``[start, end)`` in ``PoseDataset`` layout.

    Args:
        pose (PoseTrack): the video's poses.
        start (int): first frame.
        end (int): frame after the last.

    Returns:
        tuple: keypoint (1, T, 17, 2) float32 pixels and keypoint_score (1, T, 17) float32, ``T = end - start``;
        frames without a (finite) pose are zeros.
    """
    keypoint = np.zeros((1, end - start, 17, 2), np.float32)
    score = np.zeros((1, end - start, 17), np.float32)
    inside = (pose.frames >= start) & (pose.frames < end)
    kp, sc = pose.keypoints[inside], pose.scores[inside]
    valid = np.isfinite(kp).all(axis=(1, 2)) & np.isfinite(sc).all(axis=1)
    rows = pose.frames[inside][valid] - start
    keypoint[0, rows] = kp[valid]
    score[0, rows] = sc[valid]
    return keypoint, score


@DATASETS.register_module()
class CorpusPoseDataset(CorpusActionDataset):
    """Actions as ``PoseDataset`` samples of their window's 2D poses (one person, COCO-17).

    Args:
        data_root (str): the corpus folder (``meta.json`` with ``extra.height`` / ``extra.width``, or pass
            ``img_shape``; ``pose/``).
        img_shape (tuple[int, int], optional): (H, W) of the videos, for ``PreNormalize2D``.
        **kwargs: :class:`~vpd_mm.datasets.baseline_actions.CorpusActionDataset` arguments (``split``,
            ``classes``, ``window``, ``carve_val``, ``carve_seed``, ``fewshot_file``, ``pipeline``, ...).

    Each sample: ``frame_dir`` (the action id), ``total_frames`` T, ``img_shape``, ``original_shape``,
    ``keypoint`` (1, T, 17, 2), ``keypoint_score`` (1, T, 17), plus the base fields. The window's end is clamped
    to the video's last pose frame; an action whose video has no pose file, or no valid pose in its window, is
    skipped and counted.
    """

    def __init__(self, data_root: str, img_shape: tuple[int, int] | None = None, **kwargs: Any) -> None:
        self.img_shape = tuple(img_shape) if img_shape is not None else None
        self._poses: dict[str, PoseTrack | None] = {}
        kwargs.setdefault('modality', 'Pose')
        super().__init__(data_root, **kwargs)

    def load_data_list(self) -> list[dict]:
        """Read the poses of the selected actions (each video once)."""
        if self.img_shape is None:
            extra = self.corpus.read_meta().extra
            if 'height' not in extra or 'width' not in extra:
                raise ValueError(f'{self.corpus.path("meta.json")}: extra.height/extra.width missing; pass '
                                 'img_shape=(H, W) to CorpusPoseDataset')
            self.img_shape = (int(extra['height']), int(extra['width']))
        try:
            return super().load_data_list()
        finally:
            self._poses.clear()

    def action_info(self, action: Action, start: int, end: int) -> dict[str, Any] | str:
        """The window's keypoints."""
        if action.video_id not in self._poses:
            path = self.corpus.path('pose', action.video_id + '.npz')
            self._poses[action.video_id] = self.corpus.read_pose(action.video_id) if osp.isfile(path) else None
        pose = self._poses[action.video_id]
        if pose is None:
            return f'no pose/{action.video_id}.npz'
        end = min(end, int(pose.frames[-1]) + 1 if len(pose.frames) else 0)
        if end <= start:
            return f'window [{start}, {end}) is outside the poses of {action.video_id}'
        keypoint, score = window_keypoints(pose, start, end)
        if not score.any():
            return f'no valid pose in frames [{start}, {end}) of {action.video_id}'
        return dict(frame_dir=action.id, total_frames=end - start, img_shape=self.img_shape,
                    original_shape=self.img_shape, keypoint=keypoint, keypoint_score=score)
