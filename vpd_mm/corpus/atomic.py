"""Atomic file writes: a temporary file in the same folder, then ``os.replace``.

A killed job leaves either the old file or the new one, never a partial file, so "the output exists" means
"the output is complete" for every stage.
"""
from __future__ import annotations

import os
import os.path as osp
import tempfile
from typing import Any

__all__ = ['atomic_write_bytes']


def atomic_write_bytes(path: str, write: Any) -> None:
    """Write a file atomically: ``write(fileobj)`` fills a temporary file that then replaces ``path``."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix='.tmp', dir=folder)
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
