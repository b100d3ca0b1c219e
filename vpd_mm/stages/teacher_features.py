"""Stage: teacher features ``teacher/<name>/<video>.npz`` from ``pose/``, and the concatenation of two feature
sets (Concat-VPD, or two teachers)."""
from __future__ import annotations

import os.path as osp
from typing import Callable, Optional

import numpy as np

from ..corpus import Corpus, FeatureTrack, PoseTrack
from ..teachers.features import concat_feature_tracks

__all__ = ['teacher_on_corpus', 'split_source', 'concat_on_corpus']


def teacher_on_corpus(corpus: Corpus, name: str, teacher: Callable[[PoseTrack], FeatureTrack],
                      overwrite: bool = False, progress: bool = True) -> dict[str, int]:
    """Run a teacher on every ``pose/<video>.npz`` and write ``teacher/<name>/<video>.npz``.

    Videos whose output exists are skipped (writes are atomic, so an existing file is complete): a killed run
    resumes where it stopped.

    Args:
        corpus (Corpus): the corpus.
        name (str): teacher name (``pose2d``, ``vipe``, ``vipe_inv``, ...).
        teacher (Callable[[PoseTrack], FeatureTrack]): e.g. ``pose2d_teacher`` or
            ``functools.partial(vipe_teacher, model)``.
        overwrite (bool): recompute existing outputs. Defaults to False.
        progress (bool): show a progress bar. Defaults to True.

    Returns:
        dict[str, int]: ``videos``, ``written``, ``skipped`` (existing), ``frames`` and ``nan_frames`` (frames
        with an invalid pose, written as NaN features and NaN scores) of the videos written.

    Raises:
        ValueError: if the corpus has no pose files.
    """
    from tqdm import tqdm
    ids = corpus.list_ids('pose', '.npz')
    if not ids:
        raise ValueError(f'{corpus.path("pose")}: no pose files (run tools/data/extract_pose.py first)')
    stats = dict(videos=len(ids), written=0, skipped=0, frames=0, nan_frames=0)
    for video_id in tqdm(ids, desc=f'teacher/{name}', disable=not progress):
        if not overwrite and osp.exists(corpus.feature_path('teacher', name, video_id)):
            stats['skipped'] += 1
            continue
        track = teacher(corpus.read_pose(video_id))
        corpus.write_features('teacher', name, video_id, track)
        stats['written'] += 1
        stats['frames'] += len(track.frames)
        stats['nan_frames'] += int(np.isnan(track.scores).sum())
    return stats


def split_source(source: str) -> tuple[str, str]:
    """``'features/2d_vpd'`` -> ``('features', '2d_vpd')``; a bare name means ``teacher/<name>``."""
    kind, _, name = source.rpartition('/')
    kind = kind or 'teacher'
    if kind not in ('teacher', 'features') or not name:
        raise ValueError(f'feature source {source!r}: expected NAME, teacher/NAME or features/NAME')
    return kind, name


def concat_on_corpus(corpus: Corpus, source_a: str, source_b: str, name: str, kind: Optional[str] = None,
                     overwrite: bool = False, progress: bool = True) -> dict[str, int]:
    """Concatenate two feature sets of a corpus video by video (Concat-VPD, or two teachers).

    Args:
        corpus (Corpus): the corpus.
        source_a (str): ``NAME`` / ``teacher/NAME`` / ``features/NAME``.
        source_b (str): same.
        name (str): output name.
        kind (str, optional): output folder, ``'teacher'`` or ``'features'``; by default ``features`` when both
            sources are student features, else ``teacher``.
        overwrite (bool): recompute existing outputs. Defaults to False.
        progress (bool): show a progress bar. Defaults to True.

    Returns:
        dict[str, int]: ``videos`` (in both sources), ``written``, ``skipped`` (existing), ``missing`` (videos in
        only one source, not written) and ``nan_frames``.

    Raises:
        ValueError: if the sources share no video, or a video's frames differ between them (names both files).
    """
    from tqdm import tqdm
    (kind_a, name_a), (kind_b, name_b) = split_source(source_a), split_source(source_b)
    kind = kind or ('features' if kind_a == kind_b == 'features' else 'teacher')
    ids_a, ids_b = set(corpus.feature_ids(kind_a, name_a)), set(corpus.feature_ids(kind_b, name_b))
    both = sorted(ids_a & ids_b)
    if not both:
        raise ValueError(f'{corpus.path(kind_a, name_a)} and {corpus.path(kind_b, name_b)} share no video')
    stats = dict(videos=len(both), written=0, skipped=0, missing=len(ids_a ^ ids_b), nan_frames=0)
    for video_id in tqdm(both, desc=f'{kind}/{name}', disable=not progress):
        if not overwrite and osp.exists(corpus.feature_path(kind, name, video_id)):
            stats['skipped'] += 1
            continue
        track = concat_feature_tracks(corpus.read_features(kind_a, name_a, video_id),
                                      corpus.read_features(kind_b, name_b, video_id),
                                      corpus.feature_path(kind_a, name_a, video_id),
                                      corpus.feature_path(kind_b, name_b, video_id))
        corpus.write_features(kind, name, video_id, track)
        stats['written'] += 1
        stats['nan_frames'] += int(np.isnan(track.scores).sum())
    return stats
