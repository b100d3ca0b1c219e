"""FX35 (FineGym floor exercise, Gym99's 35 floor classes) from the FineGym v1.1 label files
(``spec/reference_vpd.md`` sections 6.1, 6.2, 9.3; ``spec/mm_conventions.md`` section 3.4).

Label folder (published FineGym names):

- ``finegym_annotation_info_v1.1.json``: ``{youtube_id: {"E_<s>_<e>": {"event": type, "timestamps": [[s, e]],
  "segments": {"A_<a>_<b>": {"stages": n, "timestamps": [[s, e], ...]}} or null}}}``; event type 2 is women's
  floor exercise; element timestamps are seconds inside the event.
- ``gym99_train_element_v1.1.txt`` (train) and ``gym99_val_element.txt`` (the reference's test split): lines
  ``<youtube_id>_E_<s>_<e>_A_<a>_<b> <Gym99 label>``.
- ``gym99_categories.txt`` (or ``gym99_categories_abrv.txt``): lines
  ``Clabel: <n>; set: <s>; Glabel: <g>; (<EV>) <name>``; the FX classes are those of event ``(FX)``
  (Clabel 6..40 in Gym99), in Clabel order.

Corpus: one video per event clip ``<youtube_id>_E_<s>_<e>`` (the reference's and mmaction2's event naming), one
action per floor element (id = the Gym99 element id, so published FineGym few-shot lists read directly). Frames
follow the reference: the first stage's ``[t0, t1]`` seconds become frames ``floor(t0 * fps) .. ceil(t1 * fps)``
inclusive, i.e. ``[floor(t0 fps), ceil(t1 fps) + 1)``, with the event video's own fps (``t * fps`` is rounded to
6 decimals first, so 3.2 s x 25 fps is frame 80, not the float artefact 80.00000000000001 -> 81). Without the
videos or ``fx.video_meta.pkl`` the fps is unknown and ``default_fps`` (25) is assumed for those events (counted,
logged; re-run with the videos to fix the frames). The 0.25 s lead-in of the recognition window is applied
downstream. Elements of the other apparatus (VT, BB, UB) are left out and listed in ``annotations/excluded.txt``
(the published FineGym few-shot lists cover all 99 classes). Splits: train = the train element list, test = the
val element list (reference: 5,408 / 2,226 FX elements); the validation split is carved from train afterwards
(the reference validates on test).
"""
from __future__ import annotations

import json
import math
import os.path as osp
from typing import Any, Callable

from ...corpus.corpus import Action
from .common import Conversion, LabelFileError, SkipLog, read_label_lines, require_file

__all__ = ['FX_EVENT_TYPE', 'read_gym99_categories', 'read_gym99_labels', 'parse_element_id', 'element_frames',
           'convert_fx35']

FX_EVENT_TYPE = 2
ANNOTATION_FILE = 'finegym_annotation_info_v1.1.json'
TRAIN_FILE = 'gym99_train_element_v1.1.txt'
TEST_FILE = 'gym99_val_element.txt'
CATEGORY_FILES = ('gym99_categories.txt', 'gym99_categories_abrv.txt')


def read_gym99_categories(path: str) -> dict[int, tuple[str, str]]:
    """``Clabel -> (event, name)`` from a Gym99 category file.

    Raises:
        LabelFileError: a malformed line or a duplicate Clabel (names the line).
    """
    categories: dict[int, tuple[str, str]] = {}
    for line, text in read_label_lines(path):
        parts = text.split(';', 3)
        try:
            if len(parts) != 4 or not parts[0].strip().startswith('Clabel:'):
                raise ValueError
            clabel = int(parts[0].split(':', 1)[1])
            description = parts[3].strip()
            if not description.startswith('(') or ')' not in description:
                raise ValueError
            event, name = description[1:].split(')', 1)
        except ValueError:
            raise LabelFileError(path, line, f'expected "Clabel: n; set: s; Glabel: g; (EV) name", got {text!r}') \
                from None
        if clabel in categories:
            raise LabelFileError(path, line, f'duplicate Clabel {clabel}')
        categories[clabel] = (event.strip(), name.strip())
    return categories


def read_gym99_labels(path: str) -> list[tuple[int, str, int]]:
    """``(line, element_id, label)`` of a Gym99 element list.

    Raises:
        LabelFileError: a malformed line (names it).
    """
    rows = []
    for line, text in read_label_lines(path):
        fields = text.split()
        if len(fields) != 2 or not fields[1].isdigit() or parse_element_id(fields[0]) is None:
            raise LabelFileError(path, line, f'expected "<video>_E_<s>_<e>_A_<a>_<b> <label>", got {text!r}')
        rows.append((line, fields[0], int(fields[1])))
    return rows


def parse_element_id(element_id: str) -> tuple[str, str, str] | None:
    """``'<yt>_E_000615_000710_A_0088_0088'`` -> ``('<yt>', 'E_000615_000710', 'A_0088_0088')`` (None if not)."""
    head, sep, action = element_id.rpartition('_A_')
    youtube_id, sep2, event = head.rpartition('_E_')
    if not (sep and sep2 and youtube_id and event and action):
        return None
    return youtube_id, 'E_' + event, 'A_' + action


def element_frames(t0: float, t1: float, fps: float) -> tuple[int, int]:
    """Frames ``[start, end)`` of an element spanning seconds ``[t0, t1]`` of its event (module docstring)."""
    return math.floor(round(t0 * fps, 6)), math.ceil(round(t1 * fps, 6)) + 1


def _element_timestamps(annotation: dict[str, Any], ann_path: str, element_id: str) -> tuple[float, float, Any]:
    youtube_id, event_id, action_id = parse_element_id(element_id)  # type: ignore[misc]
    event = annotation.get(youtube_id, {}).get(event_id)
    if not isinstance(event, dict):
        raise KeyError('event not in the annotation file')
    segments = event.get('segments') or {}
    segment = segments.get(action_id)
    if not isinstance(segment, dict):
        raise KeyError('element not in the annotation file')
    try:
        t0, t1 = segment['timestamps'][0]
        return float(t0), float(t1), event.get('event')
    except (KeyError, IndexError, TypeError, ValueError):
        raise LabelFileError(ann_path, f'[{youtube_id!r}][{event_id!r}][segments][{action_id!r}]',
                             'expected "timestamps": [[start, end], ...]') from None


def convert_fx35(labels_dir: str, fps_of: Callable[[str], float | None], default_fps: float = 25.0,
                 skips: SkipLog | None = None) -> Conversion:
    """Read the FineGym files from ``labels_dir`` and keep the floor-exercise elements (module docstring).

    Args:
        labels_dir (str): folder with the published label files.
        fps_of (Callable[[str], float | None]): event video name -> its fps, None when unknown.
        default_fps (float): fps assumed for events whose fps is unknown.
        skips (SkipLog, optional): collects elements without timestamps or with bad spans.

    Returns:
        Conversion: sport ``fx35``, the FX classes (35 with the full Gym99 category file), train/test splits.

    Raises:
        LabelFileError: missing files, malformed lines or JSON, unknown labels, an element in both lists.
    """
    skips = skips if skips is not None else SkipLog('action')
    ann_path = require_file(labels_dir, ANNOTATION_FILE, 'FineGym v1.1 temporal annotation')
    train_path = require_file(labels_dir, TRAIN_FILE, 'Gym99 train element list')
    test_path = require_file(labels_dir, TEST_FILE, 'Gym99 val element list (the test split)')
    candidates = [osp.join(labels_dir, name) for name in CATEGORY_FILES if osp.isfile(osp.join(labels_dir, name))]
    category_path = candidates[0] if candidates else require_file(labels_dir, CATEGORY_FILES[0], 'Gym99 categories')
    category_name = osp.basename(category_path)
    categories = read_gym99_categories(category_path)
    fx_clabels = sorted(c for c, (event, _) in categories.items() if event == 'FX')
    if not fx_clabels:
        raise LabelFileError(category_path, None, 'no (FX) categories')
    classes = [categories[c][1] for c in fx_clabels]
    if len(set(classes)) != len(classes):
        raise LabelFileError(category_path, None, 'two FX categories share a name')
    class_of = {c: categories[c][1] for c in fx_clabels}
    try:
        with open(ann_path, encoding='utf-8') as f:
            annotation = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise LabelFileError(ann_path, None, f'not valid JSON ({error})') from None
    if not isinstance(annotation, dict):
        raise LabelFileError(ann_path, None, 'expected an object {youtube_id: {event_id: ...}}')

    actions: list[Action] = []
    excluded: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    assumed: set[str] = set()
    for path, split in ((train_path, 'train'), (test_path, 'test')):
        for line, element_id, label in read_gym99_labels(path):
            if label not in categories:
                raise LabelFileError(path, line, f'unknown Gym99 label {label} (not in {category_name})')
            if element_id in seen:
                raise LabelFileError(path, line, f'{element_id} is also listed in {seen[element_id]}')
            seen[element_id] = osp.basename(path)
            if label not in class_of:
                excluded.append((element_id, f'Gym99 class {label} ({categories[label][0]}) is not floor exercise'))
                continue
            try:
                t0, t1, event_type = _element_timestamps(annotation, ann_path, element_id)
            except KeyError as error:
                excluded.append((element_id, f'no timestamps ({error.args[0]})'))
                skips.skip(f'no timestamps in {ANNOTATION_FILE}', element_id)
                continue
            if event_type != FX_EVENT_TYPE:
                excluded.append((element_id, f'event type {event_type} is not floor exercise ({FX_EVENT_TYPE})'))
                skips.skip('labelled as a floor class but its event is not floor exercise', element_id)
                continue
            video = element_id.rpartition('_A_')[0]
            fps = fps_of(video)
            if fps is None:
                fps = default_fps
                assumed.add(video)
            start, end = element_frames(t0, t1, fps)
            if start < 0 or end <= start:
                excluded.append((element_id, f'bad time span [{t0}, {t1}] s'))
                skips.skip('bad time span', element_id)
                continue
            actions.append(Action(element_id, video, start, end, class_of[label], split))
    notes = []
    if assumed:
        notes.append(f'fps unknown for {len(assumed)} event videos (no video, no fx.video_meta.pkl): {default_fps} fps '
                     f'assumed for their element frames (e.g. {sorted(assumed)[0]}); re-run with --videos to fix')
    sources = {a.video_id: a.video_id for a in actions}
    return Conversion(
        sport='fx35', classes=classes, actions=actions, excluded=excluded, sources=sources, fps=25.0,
        min_pose_score=0.5, frame_size=(720, 1280),
        extra=dict(
            source=f'FX35: FineGym v1.1 {ANNOTATION_FILE}, {TRAIN_FILE}, {TEST_FILE}, {category_name}',
            action_span='the element, frames floor(t0 fps) .. ceil(t1 fps) of the event video (first stage)',
            gym99_clabels=fx_clabels, test_split='gym99_val_element.txt',
            fps_assumed_videos=len(assumed)), notes=notes)

