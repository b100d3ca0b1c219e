"""MallocThresholdHook / set_malloc_thresholds: a freed batch's heap is kept for the next batch (no page faults per
batch), set from a config through the HOOKS registry; bad values and a non-glibc C library. The thresholds are set
in subprocesses, so this test process keeps glibc's defaults. No timing here (benchmarks/distill_throughput.py)."""
from __future__ import annotations

import logging
import platform

import pytest

from conftest import run_python
from mmaction.registry import HOOKS

import vpd_mm.engine.malloc as malloc
from vpd_mm.engine import MallocThresholdHook, set_malloc_thresholds

# Five batches of 100 samples, each sample a (5, 128, 128) float32 input (327,680 bytes, written so that its pages
# are touched), freed together as a collated batch is; prints the page faults (minor) of batches 2-5.
BATCHES = """
import resource, sys
import numpy as np
mode = sys.argv[1]
if mode == 'function':
    from vpd_mm.engine import set_malloc_thresholds
    assert set_malloc_thresholds(32 << 20, 64 << 20)
elif mode == 'hook':
    import vpd_mm.engine  # noqa: F401
    from mmaction.registry import HOOKS
    hook = HOOKS.build(dict(type='MallocThresholdHook', mmap_threshold=32 << 20, trim_threshold=64 << 20))
    hook.before_run(None)
    assert hook.applied
def batch():
    samples = [np.empty((5, 128, 128), np.float32) for _ in range(100)]
    for sample in samples:
        sample.fill(1.0)
    return float(sum(s[0, 0, 0] for s in samples))
assert batch() == 100.0
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    assert batch() == 100.0
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='the thresholds are glibc mallopt options')


def batch_page_faults(mode: str) -> int:
    result = run_python(['-c', BATCHES, mode], timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.split()[-1])


@glibc_only
@pytest.mark.slow
def test_a_freed_batch_is_not_faulted_in_again():
    """glibc's defaults trim the heap when a batch is freed, so every batch faults its 32 MB in again (8,000 pages
    of 4 KiB; 4 batches: about 32,000 faults); with the thresholds set by the function or by the hook built from a
    config, the batches reuse the heap."""
    pages_per_batch = 100 * 5 * 128 * 128 * 4 // 4096
    default = batch_page_faults('glibc')
    assert default > 4 * pages_per_batch // 2, default
    for mode in ('function', 'hook'):
        kept = batch_page_faults(mode)
        assert kept < pages_per_batch // 4, (mode, kept, default)


@pytest.mark.parametrize('bad', [0, -1, 2**31, 1.5, True, '1024'])
def test_bad_thresholds_name_the_option(bad):
    with pytest.raises(ValueError, match=r'MallocThresholdHook: mmap_threshold must be a positive integer'):
        HOOKS.build(dict(type='MallocThresholdHook', mmap_threshold=bad))
    with pytest.raises(ValueError, match=r'^trim_threshold must be a positive integer'):
        set_malloc_thresholds(1 << 20, bad)


def test_without_glibc_nothing_is_set_and_the_hook_says_so(monkeypatch):
    calls, logged = [], []
    monkeypatch.setattr(malloc, '_glibc', lambda: None)
    monkeypatch.setattr(malloc.ctypes, 'CDLL', lambda *a, **k: calls.append(a))  # no C library is opened
    monkeypatch.setattr(malloc, 'print_log', lambda message, **kwargs: logged.append((message, kwargs.get('level'))))
    assert set_malloc_thresholds() is False
    hook = MallocThresholdHook()
    hook.before_run(None)
    assert hook.applied is False and calls == []
    assert logged == [('MallocThresholdHook: the C library is not glibc; heap thresholds left as they are',
                       logging.WARNING)]
