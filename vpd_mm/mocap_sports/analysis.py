"""Analyses of the embedded benchmark that need its ground truth: the distilled decoder against the teacher on
fast blurred frames of held-out instances."""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from ..compat import load_checkpoint_file
from ..corpus import Corpus
from ..pose import pose2d_feature
from .groundtruth import read_gt_pose
from .pck import BLUR_EXTENT, FAST_SPEED

__all__ = ['decoder_error']


def _decoder(cfg: Config, checkpoint: str) -> torch.nn.Module:
    """The distillation head (decoder D) of ``cfg`` with the checkpoint's ``head.*`` weights, strictly."""
    head = MODELS.build(copy.deepcopy(cfg.model.head))
    state = load_checkpoint_file(checkpoint, map_location='cpu')['state_dict']
    head.load_state_dict({k[len('head.'):]: v for k, v in state.items() if k.startswith('head.')})
    return head.eval()


def decoder_error(corpus: Corpus, cfg: Config, checkpoint: str, features: str = '2d_vpd',
                  split: str = 'test') -> dict[str, Any]:
    """The decoder's joints D(F(x)) against the ground truth's normalised joints, beside the teacher's.

    On fast (mean body-joint speed >= ``FAST_SPEED``) and blurred (blur extent >= ``BLUR_EXTENT``) frames inside
    the ``split`` actions (the filler motion around them is left out). Errors are mean joint distances over the
    13 joints of the normalised 2D pose (largest torso distance = 0.5).

    Args:
        corpus (Corpus): a ``mocap_sports`` corpus with ``gt_pose/``, ``pose/`` and ``features/<features>/``.
        cfg (Config): the 2D-VPD distillation config (its head decodes 26 normalised joint coordinates first).
        checkpoint (str): its checkpoint.
        features (str): the student feature set extracted with that checkpoint.
        split (str): which instances.

    Returns:
        dict: ``frames``, ``teacher_missed``, ``student_mean``, ``student_mean_where_teacher_found``,
        ``teacher_mean_where_found``, ``student_median``, ``teacher_median_where_found``, ``units``.
    """
    head = _decoder(cfg, checkpoint)
    actions = corpus.read_actions(split=split)
    student_err, teacher_err = [], []
    for video_id in sorted({a.video_id for a in actions}):
        gt = read_gt_pose(corpus, video_id)
        feats = corpus.read_features('features', features, video_id)
        pose = corpus.read_pose(video_id)
        speed = gt.speed[:, 5:17].mean(axis=1)
        inside = np.zeros(len(speed), dtype=bool)
        for action in (a for a in actions if a.video_id == video_id):
            inside[action.start:action.end] = True
        hard = (speed >= FAST_SPEED) & (gt.blur >= BLUR_EXTENT) & inside
        gt_norm = pose2d_feature(gt.keypoints).reshape(-1, 13, 2)
        with torch.no_grad():
            decoded = head(torch.from_numpy(feats.feats[:, 0])).numpy()[:, :26].reshape(-1, 13, 2)
        teacher_by_frame = dict(zip(pose.frames.tolist(), pose2d_feature(pose.keypoints).reshape(-1, 13, 2)))
        for row, frame in enumerate(feats.frames.tolist()):
            if frame >= len(hard) or not hard[frame] or not np.isfinite(gt_norm[frame]).all():
                continue
            student_err.append(np.linalg.norm(decoded[row] - gt_norm[frame], axis=-1).mean())
            mine = teacher_by_frame.get(frame)
            ok = mine is not None and np.isfinite(mine).all()
            teacher_err.append(np.linalg.norm(mine - gt_norm[frame], axis=-1).mean() if ok else np.nan)
    student, teacher = np.asarray(student_err), np.asarray(teacher_err)
    found = np.isfinite(teacher)
    return dict(frames=int(len(student)), teacher_missed=int((~found).sum()),
                student_mean=float(student.mean()) if len(student) else None,
                student_mean_where_teacher_found=float(student[found].mean()) if found.any() else None,
                teacher_mean_where_found=float(teacher[found].mean()) if found.any() else None,
                student_median=float(np.median(student)) if len(student) else None,
                teacher_median_where_found=float(np.median(teacher[found])) if found.any() else None,
                units='mean joint distance in normalised-pose units (largest torso distance = 0.5), 13 joints')
