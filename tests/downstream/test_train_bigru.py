"""BiGRU recognition trained with tools/train.py on the tiny corpus beats chance on held-out actions."""
from __future__ import annotations

import glob
import os.path as osp
import re

import pytest
from conftest import run_python

from downstream.conftest import ONE_THREAD, SYNTH_RECOGNITION, loader_options, read_json

TOOLS = ['tools/fewshot.py', 'tools/detect.py', 'tools/report.py']


@pytest.mark.parametrize('tool', TOOLS)
def test_tool_help(tool):
    result = run_python([tool, '--help'], timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'usage:' in result.stdout


@pytest.mark.slow
def test_bigru_train_then_test_beats_chance(pose2d_corpus, tmp_path):
    work = str(tmp_path / 'work')
    options = loader_options(pose2d_corpus.root)
    result = run_python(['tools/train.py', SYNTH_RECOGNITION, '--work-dir', work, '--seed', '0', *options],
                        env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    val = [float(v) for v in re.findall(r'Epoch\(val\) \[\d+\]\[\d+/\d+\]\s+acc/top1: ([0-9.]+)', log)]
    assert len(val) == 6  # 30 epochs, validated every 5
    assert max(val) > 0.6  # 4 val actions of 3 classes: chance is 1/3
    best = glob.glob(osp.join(work, 'best_acc_top1_epoch_*.pth'))
    assert len(best) == 1

    dump = str(tmp_path / 'pred.json')
    result = run_python(['tools/test.py', SYNTH_RECOGNITION, best[0], '--work-dir', work, '--dump', dump,
                         *options], env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    top1 = re.findall(r'Epoch\(test\) \[\d+/\d+\]\s+acc/top1: ([0-9.]+)', result.stdout + result.stderr)
    assert top1 and float(top1[-1]) > 0.6  # the 4 test actions, never seen in training or model selection
    predictions = read_json(dump)
    assert len(predictions) == 4
    assert all(abs(sum(p['pred_score']) - 1) < 1e-5 for p in predictions)  # averaged softmax of both views
