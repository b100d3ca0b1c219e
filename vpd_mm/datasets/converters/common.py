"""Shared pieces of the dataset converters: label-file errors, counted skips, line readers and the result type.

Every converter turns the native label files of one benchmark into a :class:`Conversion` (classes, actions,
excluded items, the source video of every corpus video) that :func:`~.prepare.prepare_corpus` writes through
:class:`~vpd_mm.corpus.corpus.Corpus`. Bad input is either a :class:`LabelFileError` naming the file and the
line (or JSON entry), or a skip counted and logged by :class:`SkipLog`, never silent.
"""
from __future__ import annotations

import logging
import os.path as osp
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from ...corpus.corpus import Action
from ...utils.cli import InputError

__all__ = ['LabelFileError', 'SkipLog', 'Conversion', 'read_label_lines', 'require_file', 'logger']

logger = logging.getLogger('vpd_mm.converters')


class LabelFileError(InputError, ValueError):
    """A native label file is missing or malformed; the message names the file and the line (or entry).

    Args:
        path (str): the file.
        line (int | str | None): 1-based line number, or a JSON entry such as ``'entry 3'``.
        problem (str): what is wrong.
    """

    def __init__(self, path: str, line: int | str | None, problem: str) -> None:
        where = path if line is None else f'{path}:{line}'
        super().__init__(f'{where}: {problem}')
        self.path = path
        self.line = line


class SkipLog:
    """Counts items that are deliberately left out, by reason, and logs the first few of each reason.

    Args:
        what (str): what is being skipped, for the log lines (e.g. ``'action'``).
        max_examples (int): examples logged per reason.
    """

    def __init__(self, what: str = 'item', max_examples: int = 3) -> None:
        self.what = what
        self.max_examples = max_examples
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = defaultdict(list)

    def skip(self, reason: str, item: str) -> None:
        """Record that ``item`` was left out because of ``reason``."""
        self.counts[reason] += 1
        if self.counts[reason] <= self.max_examples:
            self.examples[reason].append(item)
            logger.info('skipped %s %s: %s', self.what, item, reason)

    @property
    def total(self) -> int:
        """Number of skipped items."""
        return sum(self.counts.values())

    def summary(self) -> str:
        """One line per reason: ``<count> <what>s skipped: <reason> (e.g. ...)``."""
        lines = []
        for reason, count in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f'{count} {self.what}(s) skipped: {reason} (e.g. {", ".join(self.examples[reason])})')
        return '\n'.join(lines)


@dataclass
class Conversion:
    """What a converter read from the native label files.

    Args:
        sport (str): corpus sport name (``fsjump6``, ``tennis7``, ``fx35``, ``diving48``).
        classes (list[str]): class names in label-index order.
        actions (list[Action]): the actions, with the reference's splits.
        excluded (list[tuple[str, str]]): ``(id, reason)`` of labelled items deliberately left out (other
            classes, no video, ...); the few-shot importer skips these ids instead of failing on them.
        sources (dict[str, str]): corpus video id -> source video name (file name without extension).
        fps (float): nominal frame rate.
        min_pose_score (float): teacher confidence threshold for distillation.
        frame_size (tuple[int, int]): nominal ``(height, width)`` of the videos.
        extra (dict): documentation of the conversion kept in ``meta.json`` ``extra``.
        notes (list[str]): warnings for the user (e.g. an assumed frame rate).
    """

    sport: str
    classes: list[str]
    actions: list[Action]
    excluded: list[tuple[str, str]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    fps: float = 25.0
    min_pose_score: float = 0.5
    frame_size: tuple[int, int] = (1080, 1920)
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def require_file(folder: str, name: str, what: str) -> str:
    """``folder/name``, or a :class:`LabelFileError` saying which published file is missing."""
    path = osp.join(folder, name)
    if not osp.isfile(path):
        raise LabelFileError(path, None, f'missing ({what}; expected under its published name {name!r})')
    return path


def read_label_lines(path: str) -> list[tuple[int, str]]:
    """Non-blank lines of a text label file as ``(line_number, stripped_text)``; the last newline is optional.

    Raises:
        LabelFileError: the file is missing or not UTF-8 text.
    """
    if not osp.isfile(path):
        raise LabelFileError(path, None, 'missing')
    try:
        with open(path, encoding='utf-8') as f:
            return [(number, line.strip()) for number, line in enumerate(f, 1) if line.strip()]
    except UnicodeDecodeError as error:
        raise LabelFileError(path, None, f'not UTF-8 text ({error})') from None
