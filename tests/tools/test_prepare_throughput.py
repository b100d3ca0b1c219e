"""benchmarks/prepare_throughput.py: its codec table times the crop store's own decoders, and a corpus too small
to split is a one-line usage error."""
from __future__ import annotations

import sys

from conftest import REPO, run_python


def test_too_few_videos_is_a_usage_error():
    result = run_python(['benchmarks/prepare_throughput.py', '--videos', '4'], timeout=120)
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith(
        'error: --videos must be at least 5 (the corpus needs train, val and test videos), got 4')


def test_codec_table_times_the_stores_decoders():
    sys.path.insert(0, f'{REPO}/benchmarks')
    try:
        import numpy as np
        from prepare_throughput import _codec_table
    finally:
        sys.path.remove(f'{REPO}/benchmarks')
    rng = np.random.default_rng(0)
    prev = rng.integers(0, 256, (3, 128, 128, 3), dtype=np.uint8)
    current = np.roll(prev, 2, axis=2)
    rows = {name: (size, micros) for name, size, micros in _codec_table(prev, current)}
    # the store's decoders read the very bytes of the OpenCV / zlib rows they are compared with
    assert rows['crop JPEG q90, simplejpeg (ours)'][0] == rows['crop JPEG q90'][0]
    assert rows['flow int8 zlib-6, libdeflate (ours)'][0] == rows['flow int8 zlib-6'][0]
    assert all(micros > 0 for name, (size, micros) in rows.items() if 'raw' not in name)
