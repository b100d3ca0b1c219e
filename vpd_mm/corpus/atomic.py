"""Atomic file writes: a temporary file in the same folder, then ``os.replace``.

A killed job leaves either the old file or the new one, never a partial file, so "the output exists" means
"the output is complete" for every stage. A killed job does leave its temporary file (``.<name>.tmp<pid>-<random>``,
hidden); :func:`remove_stale_temps` removes those whose process is gone, and every stage calls it on its output
folders when it starts, so reruns clean up after killed runs.
"""
from __future__ import annotations

import logging
import os
import os.path as osp
import re
import shutil
import tempfile
from typing import Any

__all__ = ['atomic_write_bytes', 'temp_prefix', 'remove_stale_temps']

logger = logging.getLogger(__name__)

_TEMP = re.compile(r'^\..+\.tmp(?P<pid>\d+)-[A-Za-z0-9_]+(\.[A-Za-z0-9]+)?$')
"""Names made with :func:`temp_prefix` (an optional extension after the random part, e.g. ``.mp4``)."""


def temp_prefix(path: str) -> str:
    """The prefix of a temporary file or folder for ``path``: hidden, and naming this process
    (``.<name>.tmp<pid>-``), so a later run can tell a killed run's leftover from a write in progress."""
    return f'.{osp.basename(path)}.tmp{os.getpid()}-'


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temps(folder: str) -> int:
    """Remove the temporary files and folders of killed runs from ``folder`` (those named by
    :func:`temp_prefix` whose process no longer exists); returns how many were removed."""
    if not osp.isdir(folder):
        return 0
    removed = 0
    for name in os.listdir(folder):
        match = _TEMP.match(name)
        if match is None or _alive(int(match.group('pid'))):
            continue
        path = osp.join(folder, name)
        if osp.isdir(path) and not osp.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.remove(path)
            except FileNotFoundError:
                continue
        removed += 1
    if removed:
        logger.info('%s: removed %d temporary file(s) left by killed runs', folder, removed)
    return removed


def atomic_write_bytes(path: str, write: Any) -> None:
    """Write a file atomically: ``write(fileobj)`` fills a temporary file that then replaces ``path``."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), dir=folder)
    try:
        with os.fdopen(fd, 'wb') as fileobj:
            os.fchmod(fileobj.fileno(), 0o644)  # mkstemp makes 0600 files; corpora are shared read-only data
            write(fileobj)
            fileobj.flush()
            os.fsync(fileobj.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
