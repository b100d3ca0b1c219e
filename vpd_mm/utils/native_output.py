"""Silencing what native libraries (pybullet, MediaPipe/TFLite/absl) print straight to file descriptors 1 and 2."""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

__all__ = ['quiet_native_output']


def _flush_stdio() -> None:
    """Flush Python's ``sys.stdout``/``sys.stderr`` and every C stdio output stream (``fflush(NULL)``)."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):  # closed or broken stream
                pass
    try:
        import ctypes
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C library to ask (e.g. some Windows builds)
        pass


@contextlib.contextmanager
def quiet_native_output() -> Iterator[None]:
    """Redirect file descriptors 1 (stdout) and 2 (stderr) to ``os.devnull`` for the duration of the block.

    Everything written to them inside the block is dropped, including output of C/C++ code that Python's
    ``sys.stdout``/``sys.stderr`` never see (pybullet's build banner and URDF warnings, TFLite and absl start-up
    lines). Python's and C's stdio buffers are flushed on entry (earlier output is kept) and again before the
    descriptors are restored (output buffered inside the block is dropped, not printed later). Nesting is safe.
    If ``os.devnull`` or a descriptor cannot be opened, the block runs without silencing that descriptor.
    """
    _flush_stdio()
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    saved: list[tuple[int, int]] = []
    try:
        for fd in (1, 2):
            try:
                copy = os.dup(fd)
            except OSError:  # descriptor not open
                continue
            saved.append((fd, copy))
            os.dup2(devnull, fd)
        yield
    finally:
        _flush_stdio()
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)
