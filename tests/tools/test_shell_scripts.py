"""tools/dist_train.sh, dist_test.sh, slurm_train.sh, slurm_test.sh: --help, usage errors, and the exact launcher
command each builds (with a stand-in ``srun`` / ``python`` that prints its arguments), plus a real 2-process CPU
run of dist_test.sh on a detection config (rank 0 reports frame accuracy and AP@tIoU)."""
from __future__ import annotations

import os
import os.path as osp
import stat
import subprocess
import sys

import pytest

from conftest import REPO

SCRIPTS = {'dist_train': 2, 'dist_test': 3, 'slurm_train': 3, 'slurm_test': 4}  # script: positional arguments


def _bash(script: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(['bash', osp.join(REPO, 'tools', f'{script}.sh'), *args], capture_output=True, text=True,
                          timeout=120, cwd=REPO, env=dict(os.environ, **(env or {})))


def _echo_command(folder, name: str) -> str:
    """An executable ``name`` in ``folder`` that prints ``MASTER_PORT=<value>`` then its arguments, one a line."""
    path = folder / name
    path.write_text('#!/usr/bin/env bash\necho "MASTER_PORT=${MASTER_PORT:-}"\nprintf "%s\\n" "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.parametrize('script', SCRIPTS)
def test_help_and_usage(script):
    result = _bash(script, '--help')
    assert result.returncode == 0 and f'usage: bash tools/{script}.sh' in result.stdout
    result = _bash(script)
    assert result.returncode == 2 and result.stderr.strip().startswith(f'usage: bash tools/{script}.sh')


@pytest.mark.parametrize('script,positional,tool', [
    ('slurm_train', ['CFG.py'], 'train.py'), ('slurm_test', ['CFG.py', 'CKPT.pth'], 'test.py')])
def test_slurm_command(script, positional, tool, tmp_path):
    _echo_command(tmp_path, 'srun')
    env = dict(PATH=f'{tmp_path}:{os.environ["PATH"]}', GPUS='16', GPUS_PER_NODE='4', CPUS_PER_TASK='6',
               SRUN_ARGS='--time=10 --quotatype=auto', MASTER_PORT='23456', PYTHON='py3')
    result = _bash(script, 'gpu', 'job1', *positional, '--work-dir', 'w d', env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        'MASTER_PORT=23456', '-p', 'gpu', '--job-name=job1', '--gres=gpu:4', '--ntasks=16', '--ntasks-per-node=4',
        '--cpus-per-task=6', '--kill-on-bad-exit=1', '--time=10', '--quotatype=auto', 'py3', '-u',
        osp.join(REPO, 'tools', tool), *positional, '--launcher', 'slurm', '--work-dir', 'w d']
    # defaults: 8 tasks, 8 per node, 5 CPUs each, no extra srun options, a random port in mmaction2's range
    env = dict(PATH=f'{tmp_path}:{os.environ["PATH"]}')
    lines = _bash(script, 'gpu', 'job1', *positional, env=env).stdout.splitlines()
    assert lines[4:10] == ['--gres=gpu:8', '--ntasks=8', '--ntasks-per-node=8', '--cpus-per-task=5',
                           '--kill-on-bad-exit=1', 'python']
    assert 12000 <= int(lines[0].split('=')[1]) < 32000


@pytest.mark.parametrize('script,positional,tool', [
    ('dist_train', ['CFG.py', '2'], 'train.py'), ('dist_test', ['CFG.py', 'CKPT.pth', '2'], 'test.py')])
def test_dist_command(script, positional, tool, tmp_path):
    python = _echo_command(tmp_path, 'fakepython')
    result = _bash(script, *positional, '--cfg-options', 'a=1', env=dict(PYTHON=python, PORT='29999', NNODES='2'))
    assert result.returncode == 0, result.stderr
    files = [p for p in positional if not p.isdigit()]
    assert result.stdout.splitlines()[1:] == [
        '-m', 'torch.distributed.run', '--nnodes=2', '--node_rank=0', '--master_addr=127.0.0.1',
        '--nproc_per_node=2', '--master_port=29999', osp.join(REPO, 'tools', tool), *files, '--launcher', 'pytorch',
        '--cfg-options', 'a=1']


@pytest.mark.slow
def test_dist_test_two_cpu_processes_report_detection_ap(tmp_path):
    """Two gloo processes test a (freshly initialised) detector on the tiny corpus: every window is scored by one
    rank, rank 0 stitches all of them back into videos and reports frame accuracy and AP at every tIoU."""
    import torch
    import vpd_mm  # noqa: F401
    from mmaction.registry import MODELS
    from mmengine.config import Config

    from downstream.conftest import SYNTH_DETECTION, loader_options, write_pose2d_teacher
    from vpd_mm.testing import make_tiny_corpus
    corpus = make_tiny_corpus(str(tmp_path / 'corpus'), seed=0)
    write_pose2d_teacher(corpus.root)
    cfg = Config.fromfile(osp.join(REPO, SYNTH_DETECTION))
    torch.manual_seed(0)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmaction'):  # whatever scope an earlier test left current
        model = MODELS.build(cfg.model)
    checkpoint = str(tmp_path / 'detector.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    port = str(29500 + os.getpid() % 1000)
    result = _bash('dist_test', SYNTH_DETECTION, checkpoint, '2', '--work-dir', str(tmp_path / 'work'),
                   *loader_options(corpus.root),
                   env=dict(PYTHON=sys.executable, PORT=port, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore'))
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    summary = [line for line in log.splitlines() if 'Epoch(test)' in line and 'detection/mAP' in line]
    assert summary, log[-3000:]
    for key in ('frame/acc', 'detection/AP@0.3', 'detection/AP@0.5', 'detection/AP@0.7', 'detection/mAP'):
        assert f'{key}: ' in summary[-1]
