"""Stage: teacher features ``teacher/<name>/<video>.npz`` from ``pose/``, and the concatenation of two feature
sets (Concat-VPD, or two teachers)."""
from __future__ import annotations

import os.path as osp
from functools import partial
from typing import Any, Callable, Optional, Sequence

import numpy as np

from ..corpus import Corpus, CorpusFormatError, FeatureTrack, PoseTrack
from ..pose import mirror_agreement, temporal_agreement
from ..teachers.features import concat_feature_tracks
from .runner import for_each_video

__all__ = ['SCORES', 'scored_pose', 'teacher_on_corpus', 'split_source', 'concat_on_corpus']


SCORES = ('pose', 'mirror', 'temporal', 'mirror_temporal')
"""Where a teacher's per-frame score comes from: ``pose`` the pose estimator's own joint scores (stored in
``pose/``), ``mirror`` its agreement with itself on the mirrored video (``pose_mirror/``, see
:func:`~vpd_mm.pose.confidence.mirror_agreement`), ``temporal`` the agreement of each frame with its neighbours,
``mirror_temporal`` the smaller of the two."""


def scored_pose(corpus: Corpus, video_id: str, score: str = 'pose') -> PoseTrack:
    """``pose/<video_id>.npz`` with its joint scores replaced as ``score`` says (see :data:`SCORES`).

    Raises:
        ValueError: an unknown ``score``.
        CorpusFormatError: ``pose_mirror/`` is missing or does not match ``pose/`` (``mirror`` scores).
    """
    if score not in SCORES:
        raise ValueError(f'unknown score {score!r}; expected one of {SCORES}')
    pose = corpus.read_pose(video_id)
    if score == 'pose':
        return pose
    parts = []
    if 'mirror' in score:
        path = corpus.path('pose_mirror', video_id + '.npz')
        if not osp.isfile(path):
            raise CorpusFormatError(path, 'file', 'does not exist (run the pose stage with mirror=True, '
                                    'tools/data/extract_pose_mediapipe.py --mirror)')
        mirrored = corpus.read_pose(video_id, folder='pose_mirror')
        if not np.array_equal(mirrored.frames, pose.frames):
            raise CorpusFormatError(path, 'frames', 'differ from pose/')
        parts.append(mirror_agreement(pose.keypoints, mirrored.keypoints))
    if 'temporal' in score:
        parts.append(temporal_agreement(pose.keypoints))
    return PoseTrack(pose.frames, pose.keypoints, np.minimum.reduce(parts), pose.boxes)


def _teacher_file(corpus: Corpus, name: str, teacher: Callable[[PoseTrack], FeatureTrack], score: str,
                  video_id: str) -> dict[str, int]:
    track = teacher(scored_pose(corpus, video_id, score))
    corpus.write_features('teacher', name, video_id, track)
    return dict(frames=len(track.frames), nan_frames=int(np.isnan(track.scores).sum()))


def teacher_on_corpus(corpus: Corpus, name: str, teacher: Callable[[PoseTrack], FeatureTrack],
                      overwrite: bool = False, progress: bool = True, video_ids: Sequence[str] | None = None,
                      on_error: str = 'count', score: str = 'pose') -> dict[str, Any]:
    """Run a teacher on every ``pose/<video>.npz`` and write ``teacher/<name>/<video>.npz`` (stage runner).

    Videos whose output exists are skipped (writes are atomic, so an existing file is complete): a killed run
    resumes where it stopped.

    Args:
        corpus (Corpus): the corpus.
        name (str): teacher name (``pose2d``, ``vipe``, ``vipe_inv``, ...).
        teacher (Callable[[PoseTrack], FeatureTrack]): e.g. ``pose2d_teacher`` or
            ``functools.partial(vipe_teacher, model)``.
        overwrite (bool): recompute existing outputs. Defaults to False.
        progress (bool): show a progress bar. Defaults to True.
        video_ids (Sequence[str], optional): only these videos (default: every video with a pose file).
        on_error (str): ``'count'`` or ``'raise'`` (see :func:`~vpd_mm.stages.runner.for_each_video`).
        score (str): where the per-frame score comes from (:data:`SCORES`).

    Returns:
        dict: the runner's summary (``videos``, ``written``, ``skipped``, ``errors``, ``failed``, ``seconds``),
        ``frames`` and ``nan_frames`` (frames with an invalid pose, written as NaN features and NaN scores) of
        the videos written.

    Raises:
        MissingStageError: if the corpus has no pose files (the message names the tools that make them).
    """
    corpus.require('pose')
    ids = corpus.list_ids('pose', '.npz') if video_ids is None else list(video_ids)
    if score not in SCORES:
        raise ValueError(f'unknown score {score!r}; expected one of {SCORES}')
    return for_each_video(ids, partial(_teacher_file, corpus, name, teacher, score),
                          done=lambda v: osp.exists(corpus.feature_path('teacher', name, v)), overwrite=overwrite,
                          on_error=on_error, desc=f'teacher/{name}', progress=progress,
                          counters=('frames', 'nan_frames'), outputs=[corpus.path('teacher', name)])


def split_source(source: str) -> tuple[str, str]:
    """``'features/2d_vpd'`` -> ``('features', '2d_vpd')``; a bare name means ``teacher/<name>``."""
    kind, _, name = source.rpartition('/')
    kind = kind or 'teacher'
    if kind not in ('teacher', 'features') or not name:
        raise ValueError(f'feature source {source!r}: expected NAME, teacher/NAME or features/NAME')
    return kind, name


def _concat_file(corpus: Corpus, a: tuple[str, str], b: tuple[str, str], out: tuple[str, str],
                 video_id: str) -> dict[str, int]:
    track = concat_feature_tracks(corpus.read_features(*a, video_id), corpus.read_features(*b, video_id),
                                  corpus.feature_path(*a, video_id), corpus.feature_path(*b, video_id))
    corpus.write_features(*out, video_id, track)
    return dict(frames=len(track.frames), nan_frames=int(np.isnan(track.scores).sum()))


def concat_on_corpus(corpus: Corpus, source_a: str, source_b: str, name: str, kind: Optional[str] = None,
                     overwrite: bool = False, progress: bool = True, on_error: str = 'count') -> dict[str, Any]:
    """Concatenate two feature sets of a corpus video by video (Concat-VPD, or two teachers; stage runner).

    Args:
        corpus (Corpus): the corpus.
        source_a (str): ``NAME`` / ``teacher/NAME`` / ``features/NAME``.
        source_b (str): same.
        name (str): output name.
        kind (str, optional): output folder, ``'teacher'`` or ``'features'``; by default ``features`` when both
            sources are student features, else ``teacher``.
        overwrite (bool): recompute existing outputs. Defaults to False.
        progress (bool): show a progress bar. Defaults to True.
        on_error (str): ``'count'`` or ``'raise'`` (see :func:`~vpd_mm.stages.runner.for_each_video`).

    Returns:
        dict: the runner's summary over the videos in both sources (``videos``, ``written``, ``skipped``,
        ``errors``, ``failed``, ``seconds``), ``frames``, ``nan_frames`` and ``missing`` (videos in only one
        source, not written).

    Raises:
        MissingStageError: a source feature set does not exist.
        ValueError: if the sources share no video. A video whose frames differ between the sources is a failed
        video (the message names both files).
    """
    a, b = split_source(source_a), split_source(source_b)
    corpus.require('/'.join(a))
    corpus.require('/'.join(b))
    kind = kind or ('features' if a[0] == b[0] == 'features' else 'teacher')
    ids_a, ids_b = set(corpus.feature_ids(*a)), set(corpus.feature_ids(*b))
    both = sorted(ids_a & ids_b)
    if not both:
        raise ValueError(f'{corpus.path(*a)} and {corpus.path(*b)} share no video')
    result = for_each_video(both, partial(_concat_file, corpus, a, b, (kind, name)),
                            done=lambda v: osp.exists(corpus.feature_path(kind, name, v)), overwrite=overwrite,
                            on_error=on_error, desc=f'{kind}/{name}', progress=progress,
                            counters=('frames', 'nan_frames'), outputs=[corpus.path(kind, name)])
    result['missing'] = len(ids_a ^ ids_b)
    return result
