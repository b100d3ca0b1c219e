"""Prepare a sport's corpus from its native label files, and optionally the user's videos and published poses.

:func:`prepare_corpus` runs the stages in order; each is safe to re-run:

1. **Labels** (always, fast, rewritten on every run): the sport's converter reads the published label files;
   actions whose video is missing or unreadable (when the video set is known, see
   :mod:`.video_meta`) or that end past their video's last frame are left out, counted and logged; FX35 and
   Diving48 get a validation split carved from train (:func:`vpd_mm.corpus.fewshot.carve_validation`:
   per class ``round(fraction * n)`` training actions, at least one left in train, seeded; default fraction
   0.1, seed 0; the reference validates these two on test, its bug 6). Written: ``meta.json``,
   ``annotations/actions.json``, ``annotations/classes.txt`` (one class per line, label order) and
   ``annotations/excluded.txt`` (labelled ids left out, with the reason).
2. **Videos** (with ``videos_dir``): every video is read once with decord (fps, frame count, size; cached in
   ``annotations/video_probe_cache.json``) and linked as ``videos/<video_id>.<ext>`` (symbolic links; existing
   ones kept). Per-video rates go to ``meta.extra['video_fps']`` (read by the sequence datasets), sizes that
   differ from the most common one (``meta.extra['height'/'width']``) to ``meta.extra['video_size']``.
3. **Tracks and poses** (with ``tracks``): published per-video folders (``boxes.json``,
   ``coco_keypoints.json.gz``; :mod:`.published`) and mmaction2 skeleton pickles (:mod:`.mmaction_skeleton`);
   videos already imported are skipped.
"""
from __future__ import annotations

import glob
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from ...corpus.corpus import Action, Corpus, CorpusMeta, SPLITS
from ...corpus.fewshot import carve_validation
from .common import Conversion, LabelFileError, SkipLog, logger
from .diving48 import convert_diving48
from .fewshot_lists import write_excluded
from .fsjump6 import convert_fsjump6
from .fx35 import convert_fx35
from .mmaction_skeleton import import_skeleton_pickle
from .published import ImportSummary, find_published_videos, import_published
from .tennis7 import TENNIS_PLAYERS, convert_tennis7
from .video_meta import (VIDEO_META_CACHE_NAMES, VideoCatalog, VideoInfo, dominant_size, link_video,
                         read_reference_video_meta)

__all__ = ['SPORTS', 'CARVED_VAL_SPORTS', 'PrepareSummary', 'prepare_corpus', 'source_video_name']

SPORTS = ('fsjump6', 'tennis7', 'fx35', 'diving48')
CARVED_VAL_SPORTS = ('fx35', 'diving48')
PROBE_CACHE = ('annotations', 'video_probe_cache.json')


@dataclass
class PrepareSummary:
    """What :func:`prepare_corpus` did."""

    corpus: Corpus
    conversion: Conversion
    split_counts: dict[str, int]
    action_skips: SkipLog
    videos_linked: int = 0
    video_skips: SkipLog = field(default_factory=lambda: SkipLog('video'))
    imports: list[tuple[str, ImportSummary]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary lines."""
        counts = ', '.join(f'{s} {self.split_counts.get(s, 0)}' for s in SPLITS)
        lines = [f'{self.conversion.sport}: {len(self.conversion.classes)} classes, '
                 f'{sum(self.split_counts.values())} actions ({counts}), {len(self.conversion.excluded)} labelled '
                 f'items left out (annotations/excluded.txt) -> {self.corpus.root}']
        lines.extend(f'note: {note}' for note in self.conversion.notes)
        for log in (self.action_skips, self.video_skips):
            if log.total:
                lines.append(log.summary())
        if self.videos_linked:
            lines.append(f'{self.videos_linked} videos linked into {self.corpus.path("videos")}')
        for source, summary in self.imports:
            lines.append(f'{source}: {summary.line()}')
            if summary.skips.total:
                lines.append(summary.skips.summary())
        return lines


def source_video_name(sport: str, video_id: str) -> str:
    """The source video (file name without extension) of a corpus video: the clip of ``front__``/``back__`` tennis
    player videos, the video id itself otherwise."""
    if sport == 'tennis7':
        for player in TENNIS_PLAYERS:
            if video_id.startswith(player + '__'):
                return video_id[len(player) + 2:]
    return video_id


def _split_tracks(tracks: Sequence[str]) -> tuple[list[str], list[str]]:
    """Published folders and skeleton pickles among the ``--tracks`` paths."""
    folders, pickles = [], []
    for path in tracks:
        if osp.isfile(path) and path.endswith('.pkl'):
            pickles.append(path)
        elif osp.isdir(path):
            folders.append(path)
            pickles.extend(sorted(glob.glob(osp.join(path, '*.pkl'))))
        else:
            raise LabelFileError(path, None, 'tracks: expected a folder (published per-video folders and/or '
                                 'mmaction2 skeleton .pkl files) or a .pkl file')
    return folders, pickles


def _convert(sport: str, labels_dir: str, catalog: VideoCatalog, track_ids: set[str], default_fps: float,
             skips: SkipLog) -> Conversion:
    if sport == 'fsjump6':
        return convert_fsjump6(labels_dir, skips)
    if sport == 'tennis7':
        names = catalog.names
        if names is None:
            names = {source_video_name(sport, v) for v in track_ids}
        return convert_tennis7(labels_dir, names, skips)
    if sport == 'fx35':
        def fps_of(name: str) -> float | None:
            info = catalog.info(name)
            return None if info is None else info.fps
        return convert_fx35(labels_dir, fps_of, default_fps, skips)
    return convert_diving48(labels_dir)


def _filter_actions(conversion: Conversion, catalog: VideoCatalog, skips: SkipLog) -> list[Action]:
    """Leave out actions whose video is missing / unreadable, or that end past the video's last frame."""
    names = catalog.names
    kept = []
    for action in conversion.actions:
        source = conversion.sources.get(action.video_id, action.video_id)
        reason = None
        if names is not None and source not in names:
            reason = 'video missing' + (' (not in --videos)' if catalog.has_videos else ' (not in video_meta.pkl)')
        else:
            info = catalog.info(source)
            if info is None and catalog.path(source) is not None:
                reason = 'video unreadable'
            elif info is not None and action.end > info.num_frames:
                reason = f'ends past the last frame of its video ({info.num_frames} frames)'
        if reason is None:
            kept.append(action)
        else:
            conversion.excluded.append((action.id, reason))
            skips.skip(reason, action.id)
    return kept


def _carve(actions: list[Action], fraction: float, seed: int) -> list[Action]:
    val = set(carve_validation(actions, fraction, seed))
    return [Action(a.id, a.video_id, a.start, a.end, a.label, 'val') if a.id in val else a for a in actions]


def _video_table(sport: str, conversion: Conversion, catalog: VideoCatalog, track_ids: set[str]
                 ) -> dict[str, VideoInfo]:
    """Metadata of every corpus video (label videos, their siblings, imported track folders) that has some."""
    video_ids = set(conversion.sources) | {a.video_id for a in conversion.actions} | track_ids
    table = {}
    for video_id in sorted(video_ids):
        info = catalog.info(conversion.sources.get(video_id, source_video_name(sport, video_id)))
        if info is not None:
            table[video_id] = info
    return table


def prepare_corpus(sport: str, labels_dir: str, out: str, videos_dir: str | None = None,
                   tracks: Sequence[str] = (), val_fraction: float = 0.1, seed: int = 0, default_fps: float = 25.0,
                   person: str = 'best', overwrite_tracks: bool = False) -> PrepareSummary:
    """Convert one benchmark into a corpus (module docstring).

    Args:
        sport (str): ``'fsjump6'``, ``'tennis7'``, ``'fx35'`` or ``'diving48'``.
        labels_dir (str): folder with the native label files under their published names (and optionally the
            reference's ``<sport>.video_meta.pkl``).
        out (str): corpus folder.
        videos_dir (str, optional): the user's videos (file name = the dataset's video name).
        tracks (Sequence[str]): published pose folders and/or mmaction2 skeleton pickles.
        val_fraction (float): FX35 / Diving48: fraction of each class's training actions carved into val
            (0 keeps the native train/test only).
        seed (int): seed of the carve.
        default_fps (float): FX35: fps assumed for event videos of unknown rate.
        person (str): skeleton pickles: ``'best'`` or ``'first'`` person.
        overwrite_tracks (bool): re-import videos whose tracks/poses exist.

    Returns:
        PrepareSummary: counts and skips.

    Raises:
        LabelFileError: missing or malformed label files (names file and line).
        ValueError: bad arguments, or ``out`` holds a corpus of another sport.
    """
    if sport not in SPORTS:
        raise ValueError(f'unknown sport {sport!r}; expected one of {SPORTS}')
    if not osp.isdir(labels_dir):
        raise LabelFileError(labels_dir, None, 'labels folder does not exist')
    if not 0 <= val_fraction < 1:
        raise ValueError(f'val_fraction must be in [0, 1), got {val_fraction}')
    corpus = Corpus(out)
    if osp.isfile(corpus.path('meta.json')):
        previous = corpus.read_meta().sport
        if previous != sport:
            raise ValueError(f'{corpus.path("meta.json")}: the folder holds a {previous!r} corpus, not {sport!r}')
    reference_path = osp.join(labels_dir, VIDEO_META_CACHE_NAMES[sport])
    reference_meta = read_reference_video_meta(reference_path) if osp.isfile(reference_path) else None
    catalog = VideoCatalog(videos_dir, reference_meta, corpus.path(*PROBE_CACHE))
    folders, pickles = _split_tracks(tracks)
    published = {}
    for folder in folders:
        published.update(find_published_videos(folder))
    if catalog.has_videos:
        catalog.probe_all(catalog.paths, desc='reading videos')

    action_skips = SkipLog('action')
    conversion = _convert(sport, labels_dir, catalog, set(published), default_fps, action_skips)
    actions = _filter_actions(conversion, catalog, action_skips)
    extra = dict(conversion.extra)
    if sport in CARVED_VAL_SPORTS:
        if val_fraction > 0:
            actions = _carve(actions, val_fraction, seed)
            extra['val_split'] = (f'carved from train: round({val_fraction} x n) of each class\'s n training actions '
                                  f'(at least one left in train), seed {seed} '
                                  '(vpd_mm.corpus.fewshot.carve_validation); the reference validates on test')
        else:
            extra['val_split'] = 'none (carve one downstream, e.g. ActionSequenceDataset(carve_val=...))'
    conversion.actions = actions

    table = _video_table(sport, conversion, catalog, set(published))
    size = dominant_size(table.values())
    height, width = size if size is not None else conversion.frame_size
    extra.update(
        height=height, width=width,
        frame_size_source=('videos' if catalog.has_videos and table else
                           'reference video_meta.pkl' if table else 'nominal (no videos, no video_meta.pkl)'),
        video_fps={v: round(info.fps, 4) for v, info in sorted(table.items())},
        video_frames={v: int(info.num_frames) for v, info in sorted(table.items())},
        video_size={v: [info.height, info.width] for v, info in sorted(table.items())
                    if (info.height, info.width) != (height, width)},
        excluded=len(conversion.excluded))
    split_counts = dict(Counter(a.split for a in actions))
    extra['split_counts'] = {s: split_counts.get(s, 0) for s in SPLITS}
    corpus.write_meta(CorpusMeta(sport=sport, classes=list(conversion.classes), fps=conversion.fps, max_fps=25.0,
                                 splits=list(SPLITS), min_pose_score=conversion.min_pose_score, extra=extra))
    corpus.write_id_list(corpus.path('annotations', 'classes.txt'), conversion.classes)
    corpus.write_actions(actions, conversion.classes)
    write_excluded(corpus, conversion.excluded)
    summary = PrepareSummary(corpus, conversion, split_counts, action_skips, video_skips=catalog.unreadable)

    if catalog.has_videos:
        for video_id in sorted(table):
            source = conversion.sources.get(video_id, source_video_name(sport, video_id))
            path = catalog.path(source)
            if path is not None:
                link_video(path, corpus.path('videos', video_id))
                summary.videos_linked += 1
    for folder in folders:
        summary.imports.append((folder, import_published(corpus, folder, overwrite_tracks)))
    for path in pickles:
        summary.imports.append((path, import_skeleton_pickle(corpus, path, person, overwrite_tracks)))
    for line in summary.lines():
        logger.debug(line)
    return summary
