"""vpd_mm.utils.distributed.destroy_process_group: a gloo group held in a reference cycle (as a runner's DDP wrapper
holds it) is freed, with its communication threads, before the interpreter exits."""
from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r'''
import glob, json, os, socket, time
import torch.distributed as dist
from vpd_mm.utils.distributed import destroy_process_group

def gloo_threads():
    return sorted(n for n in (open(f).read().strip() for f in glob.glob('/proc/self/task/*/comm')) if 'gloo' in n)

with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=0, world_size=1)

class Holder:  # a runner-like object in a reference cycle, holding the group
    def __init__(self):
        self.group = dist.distributed_c10d._get_default_group()
        self.me = self

holder = Holder()
del holder
# gloo starts and names its threads asynchronously: under load they may not be there yet right after init
deadline = time.monotonic() + 20
before = gloo_threads()
while not before and time.monotonic() < deadline:
    time.sleep(0.01)
    before = gloo_threads()
destroy_process_group()
after = gloo_threads()
destroy_process_group()  # a second call (no group) is a no-op
print(json.dumps(dict(before=before, after=after, initialized=dist.is_initialized())))
'''


def test_destroy_process_group_frees_a_group_held_in_a_cycle():
    result = subprocess.run([sys.executable, '-c', SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report['before'], 'the gloo group should have started its threads'
    assert report['after'] == [] and report['initialized'] is False
