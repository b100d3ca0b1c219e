"""Stage: teacher features ``teacher/<name>/<video>.npz`` from ``pose/``, and the concatenation of two feature
sets (Concat-VPD, or two teachers)."""
from __future__ import annotations

import os.path as osp
from functools import partial
from typing import Any, Callable, Optional, Sequence

import numpy as np

from ..corpus import Corpus, CorpusFormatError, FeatureTrack, PoseTrack
from ..teachers.features import concat_feature_tracks
from .runner import for_each_video

__all__ = ['teacher_on_corpus', 'split_source', 'concat_on_corpus']


def _teacher_file(corpus: Corpus, name: str, teacher: Callable[[PoseTrack], FeatureTrack],
                  video_id: str) -> dict[str, int]:
    track = teacher(corpus.read_pose(video_id))
    corpus.write_features('teacher', name, video_id, track)
    return dict(frames=len(track.frames), nan_frames=int(np.isnan(track.scores).sum()))


def teacher_on_corpus(corpus: Corpus, name: str, teacher: Callable[[PoseTrack], FeatureTrack],
                      overwrite: bool = False, progress: bool = True, video_ids: Sequence[str] | None = None,
                      on_error: str = 'count') -> dict[str, Any]:
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

    Returns:
        dict: the runner's summary (``videos``, ``written``, ``skipped``, ``errors``, ``failed``, ``seconds``),
        ``frames`` and ``nan_frames`` (frames with an invalid pose, written as NaN features and NaN scores) of
        the videos written.

    Raises:
        CorpusFormatError: if the corpus has no pose files.
    """
    ids = corpus.list_ids('pose', '.npz') if video_ids is None else list(video_ids)
    if not ids:
        raise CorpusFormatError(corpus.path('pose'), 'folder',
                                'no pose files (run tools/data/extract_pose.py first)')
    return for_each_video(ids, partial(_teacher_file, corpus, name, teacher),
                          done=lambda v: osp.exists(corpus.feature_path('teacher', name, v)), overwrite=overwrite,
                          on_error=on_error, desc=f'teacher/{name}', progress=progress,
                          counters=('frames', 'nan_frames'))


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
        ValueError: if the sources share no video. A video whose frames differ between the sources is a failed
        video (the message names both files).
    """
    a, b = split_source(source_a), split_source(source_b)
    kind = kind or ('features' if a[0] == b[0] == 'features' else 'teacher')
    ids_a, ids_b = set(corpus.feature_ids(*a)), set(corpus.feature_ids(*b))
    both = sorted(ids_a & ids_b)
    if not both:
        raise ValueError(f'{corpus.path(*a)} and {corpus.path(*b)} share no video')
    result = for_each_video(both, partial(_concat_file, corpus, a, b, (kind, name)),
                            done=lambda v: osp.exists(corpus.feature_path(kind, name, v)), overwrite=overwrite,
                            on_error=on_error, desc=f'{kind}/{name}', progress=progress,
                            counters=('frames', 'nan_frames'))
    result['missing'] = len(ids_a ^ ids_b)
    return result
