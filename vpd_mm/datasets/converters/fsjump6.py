"""FSJump6 (figure skating jumps) from the reference's label files (``spec/reference_vpd.md`` sections 6.2, 9.1).

Label folder (published names, ``action_dataset/fs/`` of the reference code):

- ``segments.csv``: header ``video,order,start,end,duration``; one short-program routine per row, times
  ``H:MM:SS`` in the competition video. The routine clip is named
  ``<video>_<order:02d>_<start_frame:08d>_<end_frame:08d>`` with ``start_frame = start_s * 25`` and
  ``end_frame = (end_s + 1) * 25`` (the reference's ``recut_fs_video.py``; all competition videos are 25 fps).
- ``all.txt``: one jump per line, ``<routine>:<start>:<end> <label>``, frames of the routine clip, end
  exclusive; labels axel, flip, loop, lutz, salchow, toe_loop.
- ``val.ids.txt``: the validation jump ids.

Corpus: one video per routine (id = routine name), one action per jump (id = ``<routine>:<start>:<end>``, the
reference's id, so published split and few-shot files read directly). Splits: test = the routines of the four
``*_2018`` competitions, val = ``val.ids.txt``, train = the rest (reference: 743 / 183 / 520). Classes in the
reference's index order: axel, lutz, flip, loop, salchow, toe_loop.
"""
from __future__ import annotations

import csv
import os.path as osp

from ...corpus.corpus import Action
from .common import Conversion, LabelFileError, SkipLog, read_label_lines, require_file

__all__ = ['FS_CLASSES', 'FS_TEST_PREFIXES', 'FS_FPS', 'parse_hms', 'routine_name', 'read_segments',
           'convert_fsjump6']

FS_CLASSES = ['axel', 'lutz', 'flip', 'loop', 'salchow', 'toe_loop']
FS_TEST_PREFIXES = ('men_olympic_short_program_2018', 'men_world_short_program_2018',
                    'women_olympic_short_program_2018', 'women_world_short_program_2018')
FS_FPS = 25


def parse_hms(text: str) -> int:
    """``'H:MM:SS'`` (or ``'MM:SS'``) -> seconds.

    Raises:
        ValueError: not a time.
    """
    parts = text.strip().split(':')
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f'expected H:MM:SS, got {text!r}')
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return seconds


def routine_name(video: str, order: int, start_s: int, end_s: int, fps: int = FS_FPS) -> str:
    """The reference's routine clip name; e.g. ``('men_olympic_short_program_2010', 1, 459, 627)`` ->
    ``'men_olympic_short_program_2010_01_00011475_00015700'``."""
    return f'{video}_{order:02d}_{int(start_s * fps):08d}_{int((end_s + 1) * fps):08d}'


def read_segments(path: str) -> dict[str, dict]:
    """``segments.csv`` -> ``routine name -> {video, order, start_frame, end_frame}`` (competition frames).

    Raises:
        LabelFileError: missing columns, bad numbers or times, duplicate routines (names the line).
    """
    routines: dict[str, dict] = {}
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        missing = {'video', 'order', 'start', 'end'} - set(reader.fieldnames or ())
        if missing:
            raise LabelFileError(path, 1, f'header lacks {sorted(missing)} (expected video,order,start,end,...)')
        for row in reader:
            line = reader.line_num
            try:
                video = row['video'].strip()
                order = int(row['order'])
                start_s, end_s = parse_hms(row['start']), parse_hms(row['end'])
            except (ValueError, AttributeError) as error:
                raise LabelFileError(path, line, f'bad row ({error})') from None
            if not video or end_s <= start_s:
                raise LabelFileError(path, line, f'bad row (video {video!r}, start {start_s} s, end {end_s} s)')
            name = routine_name(video, order, start_s, end_s)
            if name in routines:
                raise LabelFileError(path, line, f'duplicate routine {name}')
            routines[name] = dict(video=video, order=order, start_frame=start_s * FS_FPS,
                                  end_frame=(end_s + 1) * FS_FPS)
    if not routines:
        raise LabelFileError(path, None, 'no routines')
    return routines


def convert_fsjump6(labels_dir: str, skips: SkipLog | None = None) -> Conversion:
    """Read ``segments.csv``, ``all.txt`` and ``val.ids.txt`` from ``labels_dir`` (module docstring).

    Args:
        labels_dir (str): folder with the published label files.
        skips (SkipLog, optional): collects exact duplicate lines (left out).

    Returns:
        Conversion: sport ``fsjump6``, 6 classes, actions with train/val/test splits.

    Raises:
        LabelFileError: a missing file, a malformed line, an unknown class, a routine absent from
            ``segments.csv`` (each names the file and line).
    """
    skips = skips if skips is not None else SkipLog('action')
    segments_path = require_file(labels_dir, 'segments.csv', 'routine list')
    all_path = require_file(labels_dir, 'all.txt', 'jump labels')
    val_path = require_file(labels_dir, 'val.ids.txt', 'validation ids')
    routines = read_segments(segments_path)
    val_ids = {text for _, text in read_label_lines(val_path)}

    actions: dict[str, Action] = {}
    for line, text in read_label_lines(all_path):
        fields = text.split()
        if len(fields) != 2 or fields[0].count(':') != 2:
            raise LabelFileError(all_path, line, f'expected "<routine>:<start>:<end> <label>", got {text!r}')
        action_id, label = fields
        routine, start_text, end_text = action_id.split(':')
        if not (start_text.isdigit() and end_text.isdigit()) or int(start_text) >= int(end_text):
            raise LabelFileError(all_path, line, f'bad frames {start_text!r}:{end_text!r} (need start < end)')
        if label not in FS_CLASSES:
            raise LabelFileError(all_path, line, f'unknown class {label!r}; FSJump6 classes are {FS_CLASSES}')
        if routine not in routines:
            raise LabelFileError(all_path, line, f'routine {routine!r} is not in {osp.basename(segments_path)}')
        if action_id in actions:
            if actions[action_id].label != label:
                raise LabelFileError(all_path, line, f'{action_id} labelled {actions[action_id].label!r} '
                                     f'earlier and {label!r} here')
            skips.skip('duplicate line in all.txt', action_id)
            continue
        if routine.startswith(FS_TEST_PREFIXES):
            split = 'test'
        elif action_id in val_ids:
            split = 'val'
        else:
            split = 'train'
        actions[action_id] = Action(action_id, routine, int(start_text), int(end_text), label, split)

    unknown_val = sorted(val_ids - set(actions))
    if unknown_val:
        raise LabelFileError(val_path, None, f'{len(unknown_val)} ids are not jumps of all.txt, e.g. '
                             f'{unknown_val[0]!r}')
    used = sorted(routines)  # every routine is a corpus video (distillation uses routines without jumps too)
    return Conversion(
        sport='fsjump6', classes=list(FS_CLASSES), actions=list(actions.values()),
        sources={name: name for name in used}, fps=float(FS_FPS), min_pose_score=0.5, frame_size=(1080, 1920),
        extra=dict(
            source='FSJump6: reference action_dataset/fs all.txt, segments.csv, val.ids.txt',
            action_span='the jump, [start, end) frames of the routine clip',
            test_split=f'routines of {list(FS_TEST_PREFIXES)}', val_split='published val.ids.txt',
            routines={name: routines[name] for name in used}))
