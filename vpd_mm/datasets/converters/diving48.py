"""Diving48 (V2 labels) from the published label files (``spec/reference_vpd.md`` sections 6.1, 6.2, 9.4;
``spec/mm_conventions.md`` section 3.4).

Label folder (published names):

- ``Diving48_vocab.json``: 48 entries ``[takeoff, somersaults, twists, position]``; the class name is the
  space-joined entry (e.g. ``'Back 15som 05Twis FREE'``), the class index its position.
- ``Diving48_V2_train.json``, ``Diving48_V2_test.json``: lists of
  ``{"vid_name": str, "label": int, "start_frame": int, "end_frame": int}``.

Corpus: one video and one action per clip (id = ``vid_name``, so published Diving48 few-shot lists read
directly), frames ``[start_frame, end_frame)``. All 48 classes are kept in vocabulary order (class 30 has no clip
in either V2 split: ``meta.extra['classes_without_actions']``). Splits: train / test from the two files
(reference: 15,027 / 1,970); the validation split is carved from train afterwards (the reference validates on
test).
"""
from __future__ import annotations

import json
from typing import Any

from ...corpus.corpus import Action
from .common import Conversion, LabelFileError, require_file

__all__ = ['read_diving48_vocab', 'read_diving48_labels', 'convert_diving48']

VOCAB_FILE = 'Diving48_vocab.json'
TRAIN_FILE = 'Diving48_V2_train.json'
TEST_FILE = 'Diving48_V2_test.json'


def _load_json(path: str) -> Any:
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise LabelFileError(path, None, f'not valid JSON ({error})') from None


def read_diving48_vocab(path: str) -> list[str]:
    """Class names (space-joined vocabulary entries) in label order.

    Raises:
        LabelFileError: not a list of string lists, or two entries with the same name (names the entry).
    """
    vocab = _load_json(path)
    if not isinstance(vocab, list) or not vocab:
        raise LabelFileError(path, None, 'expected a non-empty list of [takeoff, somersaults, twists, position]')
    names: list[str] = []
    for index, entry in enumerate(vocab):
        if not isinstance(entry, list) or not entry or not all(isinstance(s, str) for s in entry):
            raise LabelFileError(path, f'entry {index}', f'expected a list of strings, got {entry!r}')
        name = ' '.join(entry)
        if name in names:
            raise LabelFileError(path, f'entry {index}', f'duplicate class {name!r} (entry {names.index(name)})')
        names.append(name)
    return names


def read_diving48_labels(path: str, num_classes: int) -> list[tuple[int, str, int, int, int]]:
    """``(entry, vid_name, label, start_frame, end_frame)`` of a V2 label file.

    Raises:
        LabelFileError: an entry without the four fields, a label outside the vocabulary, or
            ``start_frame >= end_frame`` (names the entry).
    """
    data = _load_json(path)
    if not isinstance(data, list):
        raise LabelFileError(path, None, 'expected a list of {vid_name, label, start_frame, end_frame}')
    rows = []
    for index, item in enumerate(data):
        where = f'entry {index}'
        if not isinstance(item, dict) or not {'vid_name', 'label', 'start_frame', 'end_frame'} <= set(item):
            raise LabelFileError(path, where, f'expected vid_name, label, start_frame, end_frame; got {item!r}')
        name, label, start, end = item['vid_name'], item['label'], item['start_frame'], item['end_frame']
        if not isinstance(name, str) or not name:
            raise LabelFileError(path, where, f'bad vid_name {name!r}')
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (label, start, end)):
            raise LabelFileError(path, where, f'label, start_frame and end_frame must be integers ({name})')
        if not 0 <= label < num_classes:
            raise LabelFileError(path, where, f'label {label} of {name} outside the {num_classes} vocabulary classes')
        if not 0 <= start < end:
            raise LabelFileError(path, where, f'need 0 <= start_frame < end_frame, got {start}, {end} ({name})')
        rows.append((index, name, label, start, end))
    return rows


def convert_diving48(labels_dir: str) -> Conversion:
    """Read the vocabulary and the V2 train/test files from ``labels_dir`` (module docstring).

    Returns:
        Conversion: sport ``diving48``, 48 classes, train/test splits.

    Raises:
        LabelFileError: missing or malformed files, a clip listed twice.
    """
    vocab_path = require_file(labels_dir, VOCAB_FILE, 'class vocabulary')
    train_path = require_file(labels_dir, TRAIN_FILE, 'V2 train labels')
    test_path = require_file(labels_dir, TEST_FILE, 'V2 test labels')
    classes = read_diving48_vocab(vocab_path)
    actions: list[Action] = []
    seen: dict[str, str] = {}
    for path, split in ((train_path, 'train'), (test_path, 'test')):
        name_of_file = path.rsplit('/', 1)[-1]
        for index, name, label, start, end in read_diving48_labels(path, len(classes)):
            if name in seen:
                raise LabelFileError(path, f'entry {index}', f'clip {name} is also listed in {seen[name]}')
            seen[name] = name_of_file
            actions.append(Action(name, name, start, end, classes[label], split))
    used = {a.label for a in actions}
    return Conversion(
        sport='diving48', classes=classes, actions=actions, sources={a.video_id: a.video_id for a in actions},
        fps=25.0, min_pose_score=0.5, frame_size=(480, 640),
        extra=dict(source=f'Diving48: {VOCAB_FILE}, {TRAIN_FILE}, {TEST_FILE}',
                   action_span='the clip, [start_frame, end_frame)', test_split=TEST_FILE,
                   classes_without_actions=[c for c in classes if c not in used]))
