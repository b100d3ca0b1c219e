"""tools/train.py and tools/test.py on the tiny ST-GCN config: train, kill, --resume, test a checkpoint."""
from __future__ import annotations

import glob
import json
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, STGCN_CONFIG, data_root_options, run_python

TOOLS = sorted(osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'tools', '**', '*.py'), recursive=True))


def test_every_tool_is_checked():
    assert {'tools/train.py', 'tools/test.py', 'tools/demo.py', 'tools/fewshot.py', 'tools/extract_features.py',
            'tools/data/make_mocap_sports.py', 'tools/late_fusion.py'} <= set(TOOLS)


@pytest.mark.parametrize('tool', TOOLS)
def test_tool_help(tool):
    result = run_python([tool, '--help'], timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'usage:' in result.stdout


def test_train_missing_config_is_one_line_error(tmp_path):
    result = run_python(['tools/train.py', str(tmp_path / 'nope.py')], timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip() == f'error: config file {tmp_path / "nope.py"} does not exist'


def test_test_missing_checkpoint_is_one_line_error(tmp_path):
    result = run_python(['tools/test.py', STGCN_CONFIG, str(tmp_path / 'x.pth')], timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip() == f'error: checkpoint {tmp_path / "x.pth"} does not exist'


def _last_epoch(work_dir: str) -> int:
    """The epoch of the checkpoint ``--resume`` would continue from (0 before the first one)."""
    from vpd_mm.engine import latest_checkpoint
    path = latest_checkpoint(work_dir)
    return 0 if path is None else int(osp.basename(path)[len('epoch_'):-len('.pth')])


def test_latest_checkpoint_survives_an_emptied_pointer(tmp_path):
    from vpd_mm.engine import latest_checkpoint
    work = tmp_path / 'work'
    assert latest_checkpoint(str(work)) is None  # no work dir yet
    work.mkdir()
    for name in ('epoch_2.pth', 'epoch_10.pth', 'iter_3.pth', 'best_acc_epoch_12.pth', 'epoch_x.pth'):
        (work / name).write_bytes(b'x')
    pointer = work / 'last_checkpoint'
    pointer.write_text(str(work / 'epoch_2.pth'))
    assert latest_checkpoint(str(work)) == str(work / 'epoch_2.pth')  # the pointer wins when it names a file
    pointer.write_text('')  # killed between mmengine's truncation and its write
    assert latest_checkpoint(str(work)) == str(work / 'epoch_10.pth')  # highest N, not the best-model copy
    pointer.write_text('/elsewhere/old_run/epoch_2.pth')  # a moved work dir: same name, here
    assert latest_checkpoint(str(work)) == str(work / 'epoch_2.pth')
    pointer.write_text('/elsewhere/old_run/epoch_99.pth')
    assert latest_checkpoint(str(work)) == str(work / 'epoch_10.pth')
    pointer.unlink()
    assert latest_checkpoint(str(work)) == str(work / 'epoch_10.pth')


@pytest.mark.slow
def test_train_kill_resume_then_test(tiny_pose_dataset, tmp_path):
    work_dir = str(tmp_path / 'work')
    options = data_root_options(tiny_pose_dataset)
    # a long run, killed (SIGKILL, no clean-up) once it has saved two epochs
    process = subprocess.Popen(
        [sys.executable, 'tools/train.py', STGCN_CONFIG, '--work-dir', work_dir, '--seed', '0', *options,
         'train_cfg.max_epochs=1000', 'default_hooks.checkpoint.max_keep_ckpts=2'],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    try:
        while time.time() < deadline and _last_epoch(work_dir) < 2:
            time.sleep(0.2)
            assert process.poll() is None, 'training died before saving two epochs'
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed_at = _last_epoch(work_dir)
    assert killed_at >= 2
    # as if killed while mmengine rewrote last_checkpoint (it truncates, then writes): --resume still continues
    open(osp.join(work_dir, 'last_checkpoint'), 'w').close()

    # --resume without a value continues from the last checkpoint of the work dir
    target = killed_at + 2
    result = run_python(['tools/train.py', STGCN_CONFIG, '--work-dir', work_dir, '--resume', *options,
                         f'train_cfg.max_epochs={target}'])
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert f'resumed epoch: {killed_at}' in log
    assert f'Epoch(train) [{killed_at + 1}][1/' in log  # the first epoch trained is the next one
    assert f'Epoch(train) [{killed_at}][' not in log
    assert _last_epoch(work_dir) == target

    # tools/test.py loads the checkpoint (weights_only with the allow-list) and evaluates the test split
    dump = str(tmp_path / 'pred.json')
    result = run_python(['tools/test.py', STGCN_CONFIG, osp.join(work_dir, f'epoch_{target}.pth'),
                         '--work-dir', work_dir, '--dump', dump, *options])
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'acc/top1' in result.stdout + result.stderr
    with open(dump) as f:
        predictions = json.load(f)
    assert len(predictions) == 4  # the tiny corpus has 4 test actions
    for item in predictions:
        assert len(item['pred_score']) == 3
        assert abs(sum(item['pred_score']) - 1) < 1e-4
