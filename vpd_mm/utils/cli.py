"""One error path for every tool: ``error: <file>: <problem> (<what to run>)`` on stderr and exit status 2.

Every error that bad input can cause is a :class:`InputError` (the corpus, checkpoint, stage and label-file
errors all derive from it). A tool's ``main`` is wrapped by :func:`tool_main`: such an error becomes the one line
and exit status 2; anything else is a bug and keeps its traceback. ``--debug`` (added to every tool's parser by
:class:`ToolParser`) or the environment variable ``VPD_MM_DEBUG=1`` shows the traceback of input errors too.

Example:
    >>> parser = ToolParser(description='Do a thing to a corpus.')
    >>> parser.add_argument('corpus')
    >>> @tool_main
    ... def main(argv=None):
    ...     args = parser.parse_args(argv)
    ...     raise InputError(args.corpus, 'no meta.json', hint='run tools/data/prepare_videos.py first')
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
from typing import Any, Callable, NoReturn, Sequence, TypeVar

__all__ = ['InputError', 'ToolExit', 'ToolParser', 'tool_main', 'fail', 'error_line', 'debug_enabled', 'DEBUG_ENV', 'EXIT_INPUT']

DEBUG_ENV = 'VPD_MM_DEBUG'
"""Environment variable that makes input errors show their traceback (any value but ``''`` or ``'0'``)."""
EXIT_INPUT = 2
"""Exit status of a tool stopped by bad input (argparse uses the same for bad arguments)."""

F = TypeVar('F', bound=Callable[..., Any])


class InputError(Exception):
    """Bad input that a user can fix: a missing, malformed or unsafe file, or a missing upstream stage.

    ``InputError(path, problem, hint=None)`` reads ``<path>: <problem>``; ``InputError(message)`` takes a message
    that already names its file. ``hint`` (what to run or change) is printed in parentheses after the message.
    """

    path: str | None = None
    hint: str | None = None

    def __init__(self, *args: Any, hint: str | None = None) -> None:
        if len(args) == 2:
            path, problem = args
            super().__init__(f'{path}: {problem}' if path else str(problem))
            self.path = path
        else:
            super().__init__(*args)
        self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f'{text} ({self.hint})' if self.hint and self.hint not in text else text


def debug_enabled(argv: Sequence[str] | None = None) -> bool:
    """Whether tracebacks were asked for (``--debug`` in ``argv`` or ``VPD_MM_DEBUG``)."""
    if os.environ.get(DEBUG_ENV, '') not in ('', '0'):
        return True
    return '--debug' in (sys.argv[1:] if argv is None else argv)


def error_line(error: BaseException) -> str:
    """The one line of an input error: ``<file>: <problem> (<hint>)`` (newlines folded)."""
    text = ' '.join(str(error).split('\n')).strip() or type(error).__name__
    hint = getattr(error, 'hint', None)
    if hint and hint not in text:  # an error class that is not an InputError
        text = f'{text} ({hint})'
    return text


class ToolExit(SystemExit):
    """``SystemExit`` with status 2 whose text is the error line (``str(exit)``, ``exit.message``), so callers of a
    tool's ``main`` can read the message; the line itself is printed by :func:`fail`."""

    def __init__(self, message: str) -> None:
        super().__init__(EXIT_INPUT)
        self.message = message

    def __str__(self) -> str:
        return self.message


def fail(message: str, path: str | None = None, hint: str | None = None) -> NoReturn:
    """Stop with ``error: [<path>: ]<message>[ (<hint>)]`` on stderr and exit status 2 (:class:`ToolExit`)."""
    text = ' '.join(message.split('\n'))
    if path:
        text = f'{path}: {text}'
    if hint:
        text = f'{text} ({hint})'
    _close_progress_bars()
    sys.stdout.flush()
    print(f'error: {text}', file=sys.stderr, flush=True)
    raise ToolExit(f'error: {text}')


def _close_progress_bars() -> None:
    """Close open tqdm bars, so the error starts a line of its own (a bar's line has no newline)."""
    tqdm_module = sys.modules.get('tqdm')
    if tqdm_module is None:
        return
    for bar in list(getattr(tqdm_module.tqdm, '_instances', ())):
        try:
            bar.close()
        except Exception:  # noqa: BLE001  (a bar that cannot close must not hide the error)
            continue


def tool_main(main: F) -> F:
    """Wrap a tool's ``main(argv=None)``: an :class:`InputError` becomes one ``error:`` line and exit status 2
    (its traceback with ``--debug`` / ``VPD_MM_DEBUG=1``); any other exception propagates unchanged."""

    @functools.wraps(main)
    def wrapped(argv: Sequence[str] | None = None, *args: Any, **kwargs: Any) -> Any:
        try:
            return main(argv, *args, **kwargs)
        except InputError as error:
            if debug_enabled(argv):
                raise
            fail(error_line(error))

    return wrapped  # type: ignore[return-value]


class ToolParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with the ``--debug`` flag every tool shares (raw-text help by default)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault('formatter_class', argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        self.add_argument('--debug', action='store_true',
                          help=f'show the Python traceback of input errors (or set {DEBUG_ENV}=1)')
