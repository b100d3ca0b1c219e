"""Tennis7 (tennis swings) from the reference's label files (``spec/reference_vpd.md`` sections 6.1, 6.2, 9.2).

Label folder (published names, ``action_dataset/tennis/`` of the reference code):

- ``all.txt``: one swing per line, ``<match>:<front|back>:<contact_frame> <label>``; the contact frame is
  absolute in the match; 11 labels, of which Tennis7 uses forehand_topspin, forehand_slice, backhand_topspin,
  backhand_slice, forehand_volley, backhand_volley, overhead (in that index order). serve, nonshot, special and
  unknown_swing are left out (listed in ``annotations/excluded.txt``; published few-shot lists name them).
- ``val.ids.txt``: the validation swing ids.

The videos are point clips ``<match>_<start>_<end>`` (absolute match frames). Their names come from the user's
videos, the reference's ``tennis.video_meta.pkl`` or the published pose folders (``front__<clip>``). Each clip
gives two corpus videos, one per player: ``front__<clip>`` and ``back__<clip>`` (the reference's pose/feature
naming), both linked to the same clip file.

Actions: id = the reference id ``<match>:<player>:<frame>``; video = ``<player>__<clip>`` of the first clip
(ordered by start, then end) with ``start <= frame <= end`` (the reference's rule, end inclusive); the action is
the contact frame, ``[frame - start, frame - start + 1)``; the recognition window (+-0.5 s) is applied downstream.
A swing that no clip contains is left out and counted (the reference keeps it as a featureless test item that is
predicted as the most frequent class). Splits: test = the 4 held-out matches, val = ``val.ids.txt``, train = the
rest (reference: 4,592 / 1,142 / 2,509 Tennis7 swings).
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from typing import Iterable

from ...corpus.corpus import Action
from .common import Conversion, LabelFileError, SkipLog, read_label_lines, require_file

__all__ = ['TENNIS7_CLASSES', 'TENNIS_OTHER_LABELS', 'TENNIS_TEST_MATCHES', 'TENNIS_PLAYERS', 'parse_clip_name',
           'player_video_id', 'convert_tennis7']

TENNIS7_CLASSES = ['forehand_topspin', 'forehand_slice', 'backhand_topspin', 'backhand_slice', 'forehand_volley',
                   'backhand_volley', 'overhead']
TENNIS_OTHER_LABELS = ('serve', 'nonshot', 'special', 'unknown_swing')
TENNIS_TEST_MATCHES = ('usopen_2015_mens_final_federer_djokovic', 'usopen_2019_womens_osaka_gauff',
                       'wimbledon_2019_mens_semifinal_federer_nadal', 'wimbledon_2019_womens_final_halep_williams')
TENNIS_PLAYERS = ('front', 'back')


def parse_clip_name(name: str) -> tuple[str, int, int] | None:
    """``'<match>_<start>_<end>'`` -> ``(match, start, end)``; None if the name does not end in two numbers."""
    parts = name.rsplit('_', 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit() or not parts[0]:
        return None
    return parts[0], int(parts[1]), int(parts[2])


def player_video_id(player: str, clip: str) -> str:
    """Corpus video id of one player in one point clip: ``<player>__<clip>``."""
    return f'{player}__{clip}'


def _clip_index(clip_names: Iterable[str]) -> dict[str, list[tuple[int, int, str]]]:
    index: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for name in clip_names:
        parsed = parse_clip_name(name)
        if parsed is not None:
            match, start, end = parsed
            index[match].append((start, end, name))
    return {match: sorted(clips) for match, clips in index.items()}


def _find_clip(clips: list[tuple[int, int, str]], frame: int) -> tuple[int, int, str] | None:
    # first clip in (start, end) order with start <= frame <= end
    for clip in clips[:bisect_right(clips, (frame, float('inf'), ''))]:
        if clip[0] <= frame <= clip[1]:
            return clip
    return None


def convert_tennis7(labels_dir: str, clip_names: Iterable[str], skips: SkipLog | None = None) -> Conversion:
    """Read ``all.txt`` and ``val.ids.txt`` and place every swing in its point clip (module docstring).

    Args:
        labels_dir (str): folder with the published label files.
        clip_names (Iterable[str]): point clip names ``<match>_<start>_<end>`` (names that do not parse are
            ignored).
        skips (SkipLog, optional): collects the swings no clip contains.

    Returns:
        Conversion: sport ``tennis7``, 7 classes, ``min_pose_score`` 0.7.

    Raises:
        LabelFileError: a missing file, a malformed line, an unknown label or player (names file and line).
        ValueError: no point clip names.
    """
    skips = skips if skips is not None else SkipLog('action')
    all_path = require_file(labels_dir, 'all.txt', 'swing labels')
    val_path = require_file(labels_dir, 'val.ids.txt', 'validation ids')
    clips = _clip_index(clip_names)
    if not clips:
        raise ValueError('tennis7: no point clip names <match>_<start>_<end> are known; give --videos (the point '
                         'clips), --tracks (published pose folders front__<clip>) or tennis.video_meta.pkl in '
                         '--labels')
    val_ids = {text for _, text in read_label_lines(val_path)}
    known_labels = set(TENNIS7_CLASSES) | set(TENNIS_OTHER_LABELS)

    actions: dict[str, Action] = {}
    excluded: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for line, text in read_label_lines(all_path):
        fields = text.split()
        if len(fields) != 2 or fields[0].count(':') != 2:
            raise LabelFileError(all_path, line, f'expected "<match>:<player>:<frame> <label>", got {text!r}')
        action_id, label = fields
        match, player, frame_text = action_id.split(':')
        if player not in TENNIS_PLAYERS:
            raise LabelFileError(all_path, line, f'unknown player {player!r}; expected front or back')
        if not frame_text.isdigit():
            raise LabelFileError(all_path, line, f'bad contact frame {frame_text!r}')
        if label not in known_labels:
            raise LabelFileError(all_path, line, f'unknown label {label!r}; tennis labels are '
                                 f'{TENNIS7_CLASSES + list(TENNIS_OTHER_LABELS)}')
        if action_id in seen:
            if seen[action_id] != label:
                raise LabelFileError(all_path, line, f'{action_id} labelled {seen[action_id]!r} earlier and '
                                     f'{label!r} here')
            continue
        seen[action_id] = label
        if label not in TENNIS7_CLASSES:
            excluded.append((action_id, f'label {label} is not a Tennis7 class'))
            continue
        frame = int(frame_text)
        clip = _find_clip(clips.get(match, []), frame)
        if clip is None:
            excluded.append((action_id, 'no point clip contains the contact frame'))
            skips.skip('no point clip contains the contact frame', action_id)
            continue
        start = frame - clip[0]
        if match in TENNIS_TEST_MATCHES:
            split = 'test'
        elif action_id in val_ids:
            split = 'val'
        else:
            split = 'train'
        actions[action_id] = Action(action_id, player_video_id(player, clip[2]), start, start + 1, label, split)

    unknown_val = sorted(val_ids - set(seen))
    if unknown_val:
        raise LabelFileError(val_path, None, f'{len(unknown_val)} ids are not swings of all.txt, e.g. '
                             f'{unknown_val[0]!r}')
    sources = {player_video_id(p, name): name for match in clips.values() for _, _, name in match
               for p in TENNIS_PLAYERS}
    return Conversion(
        sport='tennis7', classes=list(TENNIS7_CLASSES), actions=list(actions.values()), excluded=excluded,
        sources=sources, fps=25.0, min_pose_score=0.7, frame_size=(1080, 1920),
        extra=dict(
            source='Tennis7: reference action_dataset/tennis all.txt, val.ids.txt; point clips <match>_<start>_<end>',
            action_span='the ball-contact frame, [contact, contact + 1) in the player video <player>__<clip>',
            test_split=f'matches {list(TENNIS_TEST_MATCHES)}', val_split='published val.ids.txt'))
