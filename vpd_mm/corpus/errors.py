"""The errors of the corpus layer: a file that is missing, malformed or inconsistent, or a stage not run yet."""
from __future__ import annotations

from ..utils.cli import InputError

__all__ = ['CorpusFormatError', 'MissingStageError']


class CorpusFormatError(InputError, ValueError):
    """A corpus file is missing, malformed or inconsistent; the message names the file and the field.

    Args:
        path (str): the file.
        field_name (str): the field (``'file'`` for the file as a whole).
        problem (str): what is wrong.
        hint (str, optional): what to run or change.
    """

    def __init__(self, path: str, field_name: str, problem: str, hint: str | None = None) -> None:
        Exception.__init__(self, f'{path}: {field_name}: {problem}')
        self.path = path
        self.field = field_name
        self.hint = hint


class MissingStageError(CorpusFormatError):
    """A stage's output that this step needs is absent; the hint names the tool that makes it."""

    def __init__(self, path: str, what: str, tool: str) -> None:
        super().__init__(path, 'folder', f'no {what}', hint=f'run {tool} first')
        self.tool = tool
