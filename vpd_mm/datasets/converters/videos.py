"""Any folder of videos as a corpus: ``videos/`` links, ``meta.json`` and, from an optional CSV, the actions.

:func:`prepare_videos` (``tools/data/prepare_videos.py``):

1. every video (``.mp4 .mkv .avi .mov .webm`` directly in the folder, or the files given) is read once with decord
   (frame rate, frame count, size; cached in ``annotations/video_probe_cache.json``, so a rerun reads nothing
   again) and linked as ``videos/<stem>.<ext>``; an unreadable video is left out, counted and listed in
   ``annotations/excluded.txt``;
2. ``meta.json``: the most common frame rate and size, per-video rates in ``extra['video_fps']``, sizes that
   differ from the common one in ``extra['video_size']`` (the same keys the dataset converters write), the video
   ids in ``extra['videos']``;
3. with a CSV of actions (:func:`read_actions_csv`): ``annotations/actions.json``, ``annotations/classes.txt``
   and the classes in ``meta.json`` (the order of ``classes`` when given, e.g. the class list of the corpus a
   recogniser was trained on, else sorted); without one the corpus has no actions and no classes (enough for
   tracking, crops, flow, features and inference).

Tracks are not made here: run ``tools/data/track_athletes.py`` (or ``prepare_videos.py --track``).
"""
from __future__ import annotations

import csv
import math
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from ...corpus.corpus import SPLITS, VIDEO_EXTENSIONS, Action, Corpus, CorpusMeta
from .common import LabelFileError, SkipLog
from .fewshot_lists import write_excluded
from .video_meta import VideoCatalog, VideoInfo, dominant_size, link_video, list_videos

__all__ = ['VideoPrepareSummary', 'prepare_videos', 'read_actions_csv', 'parse_time', 'collect_videos']

PROBE_CACHE = ('annotations', 'video_probe_cache.json')
DEFAULT_SPORT = 'videos'


@dataclass
class VideoPrepareSummary:
    """What :func:`prepare_videos` did."""

    corpus: Corpus
    videos: dict[str, VideoInfo]
    actions: list[Action]
    classes: list[str]
    video_skips: SkipLog
    action_skips: SkipLog = field(default_factory=lambda: SkipLog('action'))
    clamped: int = 0

    def lines(self) -> list[str]:
        """Human-readable summary lines."""
        counts = Counter(a.split for a in self.actions)
        lines = [f'{len(self.videos)} videos, {len(self.classes)} classes, {len(self.actions)} actions ('
                 + ', '.join(f'{s} {counts.get(s, 0)}' for s in SPLITS) + f') -> {self.corpus.root}']
        if self.clamped:
            lines.append(f'{self.clamped} actions ending past their video were cut at its last frame')
        for log in (self.video_skips, self.action_skips):
            if log.total:
                lines.append(log.summary())
        return lines


def parse_time(text: str, fps: float, seconds: bool) -> int:
    """A CSV time as a frame number.

    ``'120'`` is frame 120; ``'4.8s'`` (a trailing ``s``) is 4.8 seconds; with ``seconds`` every plain number is
    in seconds. Seconds become frames as ``round(t * fps)``.

    Raises:
        ValueError: not a number, or a fractional frame number.
    """
    text = text.strip()
    in_seconds = seconds or text.lower().endswith('s')
    value = float(text[:-1] if text.lower().endswith('s') else text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f'expected a non-negative time, got {text!r}')
    if in_seconds:
        return int(round(value * fps))
    if value != int(value):
        raise ValueError(f'{text!r} is not a whole frame number (write seconds as {text}s or pass --seconds)')
    return int(value)


def _is_header(row: list[str]) -> bool:
    return bool(row) and row[0].strip().lower() in ('video', 'video_id', 'name')


def read_actions_csv(path: str, videos: dict[str, VideoInfo], seconds: bool = False,
                     default_split: str = 'train', skips: SkipLog | None = None,
                     unreadable: Sequence[str] = ()) -> tuple[list[Action], list[tuple[str, str]], int]:
    """Read ``video,start,end,label[,split]`` rows (a header row, blank lines and ``#`` comments are allowed).

    ``video`` is the file name with or without its extension; ``start`` is the first frame and ``end`` the frame
    after the last (frames, or seconds: see :func:`parse_time`); ``split`` is ``train``, ``val`` or ``test``
    (``default_split`` when the column is absent or empty). An action of a video that is not in ``videos`` (or
    is among the ``unreadable`` ones) is left out and counted; one ending past its video's last frame is cut
    there (counted); one starting there is left out.

    Returns:
        tuple: the actions (id ``<video>:<start>-<end>``), the left-out ``(row id, reason)`` pairs, and how many
        actions were cut at the video's end.

    Raises:
        LabelFileError: a malformed row (names the file and line), a duplicate action, an unknown split.
    """
    if default_split not in SPLITS:
        raise ValueError(f'default_split must be one of {SPLITS}, got {default_split!r}')
    skips = skips if skips is not None else SkipLog('action')
    if not osp.isfile(path):
        raise LabelFileError(path, None, 'actions CSV does not exist')
    try:
        with open(path, newline='', encoding='utf-8') as f:
            rows = list(enumerate(csv.reader(f), 1))
    except (UnicodeDecodeError, csv.Error) as error:
        raise LabelFileError(path, None, f'not a UTF-8 CSV file ({error})') from None
    actions: list[Action] = []
    excluded: list[tuple[str, str]] = []
    seen: set[str] = set()
    clamped = 0
    for number, row in rows:
        row = [cell.strip() for cell in row]
        if not any(row) or row[0].startswith('#') or (number == 1 and _is_header(row)):
            continue
        if len(row) not in (4, 5):
            raise LabelFileError(path, number, f'expected video,start,end,label[,split], got {len(row)} columns')
        name, start_text, end_text, label = row[:4]
        split = row[4] if len(row) == 5 and row[4] else default_split
        stem, ext = osp.splitext(name)
        video = stem if ext.lower() in VIDEO_EXTENSIONS else name
        if not label:
            raise LabelFileError(path, number, 'empty label')
        if split not in SPLITS:
            raise LabelFileError(path, number, f'unknown split {split!r}; expected one of {SPLITS}')
        info = videos.get(video)
        fps = info.fps if info is not None else 25.0
        try:
            start, end = parse_time(start_text, fps, seconds), parse_time(end_text, fps, seconds)
        except ValueError as error:
            raise LabelFileError(path, number, str(error)) from None
        if end <= start:
            raise LabelFileError(path, number, f'end ({end_text}) must come after start ({start_text})')
        action_id = f'{video}:{start}-{end}'
        if action_id in seen:
            raise LabelFileError(path, number, f'duplicate action {action_id}')
        seen.add(action_id)
        reason = None
        if video in unreadable:
            reason = 'video unreadable'
        elif info is None:
            reason = 'video missing (not among the videos)'
        elif start >= info.num_frames:
            reason = f'starts past the last frame of its video ({info.num_frames} frames)'
        if reason is not None:
            excluded.append((action_id, reason))
            skips.skip(reason, action_id)
            continue
        if end > info.num_frames:
            end, clamped = info.num_frames, clamped + 1
        actions.append(Action(action_id, video, start, end, label, split))
    return actions, excluded, clamped


def collect_videos(videos: str | Sequence[str]) -> dict[str, str]:
    """``name -> path`` of a folder's videos, or of a list of video files (names are the file stems).

    Raises:
        LabelFileError: a missing folder or file, or two videos with the same stem.
    """
    if isinstance(videos, str):
        if osp.isdir(videos):
            return list_videos(videos)
        videos = [videos]
    found: dict[str, str] = {}
    for path in videos:
        if not osp.isfile(path):
            raise LabelFileError(path, None, 'video file does not exist')
        stem = osp.splitext(osp.basename(path))[0]
        if stem in found and osp.abspath(found[stem]) != osp.abspath(path):
            raise LabelFileError(path, None, f'two videos named {stem!r} ({found[stem]} and {path})')
        found[stem] = path
    return found


def prepare_videos(videos: str | Sequence[str], out: str, actions_csv: str | None = None,
                   classes: Sequence[str] | None = None, sport: str | None = None, seconds: bool = False,
                   default_split: str = 'train', max_fps: float = 25.0, progress: bool = True
                   ) -> VideoPrepareSummary:
    """Make (or update) a corpus from videos (module docstring); safe to re-run.

    Args:
        videos (str | Sequence[str]): a folder of videos, or video files.
        out (str): the corpus folder.
        actions_csv (str, optional): ``video,start,end,label[,split]`` rows.
        classes (Sequence[str], optional): the class list in label order; every CSV label must be in it.
        sport (str, optional): ``meta.sport``; default: the existing corpus's, else ``'videos'``.
        seconds (bool): plain CSV times are seconds (default frames; ``4.8s`` is always seconds).
        default_split (str): split of CSV rows without one.
        max_fps (float): ``meta.max_fps`` (downstream sequences are subsampled to it).
        progress (bool): progress bar while reading the videos.

    Returns:
        VideoPrepareSummary: the readable videos, actions, classes and what was left out.

    Raises:
        LabelFileError: no readable video, a bad CSV, CSV labels outside ``classes``.
    """
    corpus = Corpus(out)
    if osp.isfile(corpus.path('meta.json')):
        previous = corpus.read_meta()
        if sport is not None and previous.sport != sport:
            raise LabelFileError(corpus.path('meta.json'), None, f'the folder holds a {previous.sport!r} corpus, '
                                 f'not {sport!r}')
        sport = previous.sport
    sport = sport or DEFAULT_SPORT
    paths = collect_videos(videos)
    catalog = VideoCatalog(None, None, corpus.path(*PROBE_CACHE))
    catalog.paths, catalog.has_videos = paths, True
    infos = catalog.probe_all(paths, desc='reading videos') if progress else \
        {name: info for name in sorted(paths) if (info := catalog.info(name)) is not None}
    catalog.save()
    if not infos:
        source = videos if isinstance(videos, str) else ', '.join(videos)
        raise LabelFileError(source, None, f'no readable video among {len(paths)} files '
                             f'({", ".join(sorted(catalog.unreadable.counts)) or "none found"})')
    excluded = [(name, 'video unreadable') for name in sorted(set(paths) - set(infos))]

    action_skips = SkipLog('action')
    actions: list[Action] = []
    clamped = 0
    if actions_csv is not None:
        actions, left_out, clamped = read_actions_csv(actions_csv, infos, seconds, default_split, action_skips,
                                                      unreadable=set(paths) - set(infos))
        excluded += left_out
    labels = sorted({a.label for a in actions})
    if classes is not None:
        unknown = [label for label in labels if label not in classes]
        if unknown:
            raise LabelFileError(actions_csv or '', None, f'labels {unknown} are not among the given classes '
                                 f'{list(classes)}')
        class_list = list(classes)
    else:
        class_list = labels

    fps_counts = Counter(round(i.fps, 3) for i in infos.values())
    size = dominant_size(infos.values())
    height, width = size if size is not None else (0, 0)
    split_counts = Counter(a.split for a in actions)
    extra = dict(source='tools/data/prepare_videos.py', videos=sorted(infos), height=height, width=width,
                 frame_size_source='videos', video_fps={v: round(i.fps, 4) for v, i in sorted(infos.items())},
                 video_size={v: [i.height, i.width] for v, i in sorted(infos.items())
                             if (i.height, i.width) != (height, width)},
                 video_frames={v: i.num_frames for v, i in sorted(infos.items())},
                 actions_csv=osp.abspath(actions_csv) if actions_csv else None,
                 time_unit='seconds' if seconds else 'frames (a trailing s: seconds)',
                 excluded=len(excluded), split_counts={s: split_counts.get(s, 0) for s in SPLITS})
    corpus.write_meta(CorpusMeta(sport=sport, classes=class_list, fps=float(fps_counts.most_common(1)[0][0]),
                                 max_fps=float(max_fps), splits=list(SPLITS), extra=extra))
    corpus.write_id_list(corpus.path('annotations', 'classes.txt'), class_list)
    corpus.write_actions(actions, class_list)
    write_excluded(corpus, excluded)
    for name in sorted(infos):
        link_video(paths[name], corpus.path('videos', name))
    return VideoPrepareSummary(corpus, infos, actions, class_list, catalog.unreadable, action_skips, clamped)
