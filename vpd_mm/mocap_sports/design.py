"""Design checks of the embedded benchmark that need no student: does the teacher's per-frame score rank its
errors? (The headroom check, oracle against teacher few-shot accuracy, runs the few-shot protocol on the
``gt2d`` and ``pose2d`` feature sets; see ``tools/demo.py``.)"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.stats import spearmanr

from ..corpus import Corpus
from ..pose import keypoint_score
from ..stages.teacher_features import SCORES, scored_pose
from .groundtruth import read_gt_pose
from .pck import normalized_errors

__all__ = ['frame_errors', 'score_error_table']


def frame_errors(corpus: Corpus, video_id: str) -> np.ndarray:
    """(T,) the teacher's mean body-joint error of each frame in torso lengths (NaN where it found no one)."""
    gt = read_gt_pose(corpus, video_id)
    pose = corpus.read_pose(video_id)
    pred = np.full((len(gt), 17, 2), np.nan, np.float32)
    inside = pose.frames < len(gt)
    pred[pose.frames[inside]] = pose.keypoints[inside]
    err, _ = normalized_errors(pred, gt.keypoints, np.maximum(gt.torso, 1e-6))
    return err.mean(axis=1)


def score_error_table(corpus: Corpus, split: str = 'test', scores: Sequence[str] = SCORES,
                      threshold: float = 0.5) -> dict[str, Any]:
    """For each score candidate, how well the per-frame score ranks the teacher's per-frame error.

    On the frames where the teacher found a pose, in the videos of ``split`` (held-out instances).

    Args:
        corpus (Corpus): a ``mocap_sports`` corpus with ``gt_pose/``, ``pose/`` (and ``pose_mirror/`` for the
            mirror candidates).
        split (str): which instances' videos.
        scores (Sequence[str]): candidates (:data:`~vpd_mm.stages.teacher_features.SCORES`).
        threshold (float): the distillation's score threshold (frames below it are not distilled).

    Returns:
        dict: ``frames`` (detected frames), ``missed`` (frames without a pose) and per candidate: ``rho``
        (Spearman correlation of score and error; negative = a higher score means a smaller error; None when
        the score is constant),
        ``removed`` (fraction of detected frames below the threshold), ``error_kept`` and ``error_removed``
        (mean error of the frames kept and removed), ``error_by_score_quartile`` (lowest quartile first).
    """
    videos = sorted({a.video_id for a in corpus.read_actions(split=split)})
    errors, table = [], {name: [] for name in scores}
    for video_id in videos:
        err = frame_errors(corpus, video_id)
        errors.append(err)
        for name in scores:
            pose = scored_pose(corpus, video_id, name)
            frame_score = np.full(len(err), np.nan)
            inside = pose.frames < len(err)
            frame_score[pose.frames[inside]] = keypoint_score(pose.scores[inside])
            table[name].append(frame_score)
    err = np.concatenate(errors)
    found = np.isfinite(err)
    out: dict[str, Any] = dict(split=split, frames=int(found.sum()), missed=int((~found).sum()),
                               threshold=threshold, mean_error=float(err[found].mean()), candidates={})
    for name in scores:
        score = np.concatenate(table[name])[found]
        e = err[found]
        keep = score >= threshold
        quartiles = np.quantile(score, [0.25, 0.5, 0.75])
        bins = np.digitize(score, quartiles)
        rho = float(spearmanr(score, e).statistic) if len(e) > 2 and np.ptp(score) > 0 else float('nan')
        out['candidates'][name] = dict(
            rho=rho if np.isfinite(rho) else None, removed=float(1 - keep.mean()),
            error_kept=float(e[keep].mean()) if keep.any() else None,
            error_removed=float(e[~keep].mean()) if (~keep).any() else None,
            error_by_score_quartile=[float(e[bins == b].mean()) if (bins == b).any() else None for b in range(4)])
    return out
