"""vpd_mm.utils.quiet_native_output: file descriptors 1 and 2 go to /dev/null inside the block, C stdio included."""
from __future__ import annotations

import ctypes
import os
import sys

from vpd_mm.utils import quiet_native_output


def test_silences_descriptors_and_c_stdio_then_restores(capfd):
    libc = ctypes.CDLL(None)
    print('before', flush=True)
    with quiet_native_output():
        os.write(1, b'fd1\n')
        os.write(2, b'fd2\n')
        libc.printf(b'c-stdout\n')  # C stdio (buffered unless PYTHONUNBUFFERED): flushed inside, so dropped
        with quiet_native_output():  # nesting keeps the outer redirection
            os.write(1, b'nested\n')
        os.write(1, b'still-quiet\n')
    libc.fflush(None)  # anything still buffered from inside the block would show up now
    print('after', flush=True)
    sys.stderr.write('err-after\n')
    out, err = capfd.readouterr()
    assert out == 'before\nafter\n'
    assert err == 'err-after\n'


def test_restores_on_error(capfd):
    try:
        with quiet_native_output():
            raise KeyError('boom')
    except KeyError:
        pass
    os.write(1, b'visible\n')
    assert capfd.readouterr().out == 'visible\n'
