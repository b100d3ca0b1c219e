"""The oracle teacher ``gt2d``: the ground truth's 2D joints, normalised exactly like the 2D-joint teacher.

It is what a perfect pose estimator would give the student; the few-shot accuracy of its features bounds what
distilling a better pose can gain on the benchmark (the headroom check), and a student distilled from it shows
whether the distillation recipe can learn the pose at all.
"""
from __future__ import annotations

import os.path as osp
from functools import partial
from typing import Any, Sequence

from ..corpus import Corpus
from ..stages.runner import for_each_video
from ..teachers.features import pose2d_teacher
from .groundtruth import read_gt_pose

__all__ = ['ORACLE', 'write_oracle_teacher']

ORACLE = 'gt2d'
"""Name of the oracle feature set (``teacher/gt2d``)."""


def _oracle_file(corpus: Corpus, name: str, video_id: str) -> dict[str, int]:
    track = pose2d_teacher(read_gt_pose(corpus, video_id).pose_track())
    corpus.write_features('teacher', name, video_id, track)
    return dict(frames=len(track.frames))


def write_oracle_teacher(corpus: Corpus, name: str = ORACLE, video_ids: Sequence[str] | None = None,
                         overwrite: bool = False, progress: bool = True) -> dict[str, Any]:
    """Write ``teacher/<name>/<video>.npz`` from ``gt_pose/`` (scores 1) for every video (stage runner).

    Returns:
        dict: the runner's summary and ``frames``.
    """
    ids = corpus.video_ids() if video_ids is None else list(video_ids)
    return for_each_video(ids, partial(_oracle_file, corpus, name),
                          done=lambda v: osp.exists(corpus.feature_path('teacher', name, v)), overwrite=overwrite,
                          on_error='raise', desc=f'teacher/{name}', progress=progress, counters=('frames',))
