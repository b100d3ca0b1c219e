"""glibc's heap thresholds for the data pipeline: freed batch memory is kept for the next batch instead of being
returned to the kernel and faulted in again."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import platform
from typing import Any

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log

__all__ = ['set_malloc_thresholds', 'MallocThresholdHook']

_M_TRIM_THRESHOLD = -1  # mallopt parameters of glibc's <malloc.h>
_M_MMAP_THRESHOLD = -3
_MIB = 1 << 20


@functools.lru_cache(maxsize=1)
def _glibc() -> Any:
    """This process's C library, when it is glibc (whose ``mallopt`` knows the two thresholds), else None."""
    if platform.libc_ver()[0] != 'glibc':
        return None
    library = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
    return library if hasattr(library, 'mallopt') else None


def _check_thresholds(mmap_threshold: Any, trim_threshold: Any, prefix: str = '') -> None:
    for name, value in (('mmap_threshold', mmap_threshold), ('trim_threshold', trim_threshold)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
            raise ValueError(f'{prefix}{name} must be a positive integer of bytes below 2 GiB, got {value!r}')


def set_malloc_thresholds(mmap_threshold: int = 32 * _MIB, trim_threshold: int = 64 * _MIB) -> bool:
    """Set glibc's ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` (bytes) for this process and the processes it
    forks afterwards (DataLoader workers).

    A sample of the distillation pipeline allocates arrays of 0.1-0.4 MB (the decoded flow, the 5 x 128 x 128
    float32 input) that live until the batch is collated. glibc's defaults adapt the mmap threshold to the largest
    block freed so far and trim the heap when more than twice that is free at its top, so a batch freed at once is
    returned to the kernel and the next batch faults its pages in again, zero-filled. With these thresholds,
    blocks below ``mmap_threshold`` come from the heap and up to ``trim_threshold`` of free heap is kept; the
    defaults are glibc's own upper end (its adaptive threshold stops at 32 MiB, trimming at twice that). A process
    then keeps up to ``trim_threshold`` of freed memory resident beyond what it uses, never more than its peak.

    Args:
        mmap_threshold (int): blocks of at least this many bytes are mapped on their own. Default 32 MiB.
        trim_threshold (int): free bytes at the heap's top beyond which the heap is trimmed. Default 64 MiB.

    Returns:
        bool: True when both were set; False where the C library is not glibc (nothing is changed).

    Raises:
        ValueError: a threshold that is not a positive integer below 2 GiB (glibc's ``int`` parameter).
    """
    _check_thresholds(mmap_threshold, trim_threshold)
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold))


@HOOKS.register_module()
class MallocThresholdHook(Hook):
    """Apply :func:`set_malloc_thresholds` in the main process before the run, so that the DataLoader workers,
    forked when an epoch starts, inherit it (with ``num_workers=0`` the main process runs the pipeline itself).

    In ``configs/_base_/vpd_distill.py``; ``benchmarks/distill_throughput.py`` applies the config's setting and
    prints the pipeline's frames/s with it. Where the C library is not glibc it logs that and changes nothing.

    Args:
        mmap_threshold (int): bytes; see :func:`set_malloc_thresholds`. Default 32 MiB.
        trim_threshold (int): bytes. Default 64 MiB.
    """

    priority = 'VERY_HIGH'

    def __init__(self, mmap_threshold: int = 32 * _MIB, trim_threshold: int = 64 * _MIB) -> None:
        _check_thresholds(mmap_threshold, trim_threshold, 'MallocThresholdHook: ')
        self.mmap_threshold, self.trim_threshold = mmap_threshold, trim_threshold
        self.applied: bool | None = None

    def before_run(self, runner: Any) -> None:
        self.applied = set_malloc_thresholds(self.mmap_threshold, self.trim_threshold)
        if self.applied:
            print_log(f'MallocThresholdHook: glibc heap thresholds mmap {self.mmap_threshold / _MIB:g} MiB, '
                      f'trim {self.trim_threshold / _MIB:g} MiB (this process and its dataloader workers)',
                      logger='current')
        else:
            print_log('MallocThresholdHook: the C library is not glibc; heap thresholds left as they are',
                      logger='current', level=logging.WARNING)
