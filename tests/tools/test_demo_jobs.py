"""tools/demo.py's JobGraph: jobs start when their prerequisites finish, never more than ``lanes`` at once; after a
failure no new job starts, the running ones finish and the first error is raised; Stages records in parallel."""
from __future__ import annotations

import importlib.util
import json
import os.path as osp
import sys
import threading
import time

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _demo():
    spec = importlib.util.spec_from_file_location('demo_tool', osp.join(REPO, 'tools', 'demo.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


demo = _demo()


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, str]] = []
        self.active = 0
        self.peak = 0

    def job(self, key: str, seconds: float, fail: bool = False):
        def run(results: dict) -> str:
            with self.lock:
                self.events.append(('start', key))
                self.active += 1
                self.peak = max(self.peak, self.active)
            time.sleep(seconds)
            with self.lock:
                self.active -= 1
                self.events.append(('end', key))
            if fail:
                raise SystemExit(f'error: {key} failed')
            return f'{key}<-' + ','.join(sorted(results))
        return run

    def index(self, kind: str, key: str) -> int:
        return self.events.index((kind, key))


def test_jobs_respect_prerequisites_and_lanes():
    rec = Recorder()
    graph = demo.JobGraph(2)
    graph.add('a', rec.job('a', 0.15))
    graph.add('b', rec.job('b', 0.05))
    graph.add('c', rec.job('c', 0.05), after=('b',))
    graph.add('d', rec.job('d', 0.05), after=('a', 'c'))
    results = graph.run()
    assert rec.peak == 2
    assert rec.index('start', 'c') > rec.index('end', 'b')
    assert rec.index('start', 'd') > max(rec.index('end', 'a'), rec.index('end', 'c'))
    assert rec.index('start', 'c') < rec.index('end', 'a')  # c ran beside a: the lanes overlap
    assert results['d'] == 'd<-a,b,c'  # a job sees the results of every job finished before it started
    assert set(results) == {'a', 'b', 'c', 'd'}


def test_one_lane_runs_in_order():
    rec = Recorder()
    graph = demo.JobGraph(1)
    for key in 'xyz':
        graph.add(key, rec.job(key, 0.01))
    graph.run()
    assert rec.peak == 1
    assert [k for kind, k in rec.events if kind == 'start'] == ['x', 'y', 'z']


def test_failure_stops_new_jobs_and_lets_running_ones_finish():
    rec = Recorder()
    graph = demo.JobGraph(2)
    graph.add('slow', rec.job('slow', 0.3))
    graph.add('bad', rec.job('bad', 0.05, fail=True))
    graph.add('later', rec.job('later', 0.01))
    graph.add('after_bad', rec.job('after_bad', 0.01), after=('bad',))
    with pytest.raises(SystemExit, match='bad failed'):
        graph.run()
    assert ('end', 'slow') in rec.events  # the running job finished
    assert ('start', 'later') not in rec.events and ('start', 'after_bad') not in rec.events


def test_unknown_prerequisite_and_duplicate_key_are_refused():
    graph = demo.JobGraph(2)
    graph.add('a', lambda r: 1)
    with pytest.raises(ValueError, match='unknown prerequisites'):
        graph.add('b', lambda r: 2, after=('nope',))
    with pytest.raises(ValueError, match='duplicate'):
        graph.add('a', lambda r: 3)


def test_stages_record_parallel_jobs_and_reuse_them(tmp_path, capsys):
    stages = demo.Stages(str(tmp_path), fresh=False)
    graph = demo.JobGraph(2)
    for key in ('one', 'two', 'three'):
        graph.add(key, lambda r, key=key: stages.run(key, f'stage {key}', lambda: (time.sleep(0.05), key)[1]))
    assert graph.run() == {'one': 'one', 'two': 'two', 'three': 'three'}
    with open(tmp_path / 'stages.json') as f:
        record = json.load(f)
    assert {k: v['result'] for k, v in record.items()} == {'one': 'one', 'two': 'two', 'three': 'three'}
    assert all(v['seconds'] >= 0.05 for v in record.values())
    again = demo.Stages(str(tmp_path), fresh=False)
    calls = []
    assert again.run('two', 'stage two', lambda: calls.append(1)) == 'two' and not calls
    assert 'finished earlier' in capsys.readouterr().out


def test_demo_lanes_benchmark_help_and_bad_corpus(tmp_path):
    from conftest import run_python
    shown = run_python(['benchmarks/demo_lanes.py', '--help'])
    assert shown.returncode == 0 and '--steps' in shown.stdout and '--skip-lanes' in shown.stdout
    missing = run_python(['benchmarks/demo_lanes.py', str(tmp_path / 'nope'), '--skip-lanes'])
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines()[-1].startswith(f'error: {tmp_path / "nope"}: ')
