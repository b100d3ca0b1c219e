"""PCK@0.2 with misses as failures, the swap-tolerant metrics, and the corpus report."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.benchmark.conftest import load_tool
from vpd_mm.mocap_sports.pck import evaluate_corpus, format_report, normalized_errors, pck, summarize
from vpd_mm.corpus.corpus import Corpus


def _frame() -> np.ndarray:
    """A hand-made upright pose (left side at larger x), torso 10 px."""
    gt = np.zeros((17, 2))
    for j in range(17):
        side = 1 if j % 2 == 1 else -1  # odd COCO indices are left joints
        gt[j] = [50 + side * (4 + j), 20 + 4 * j]
    return gt


def test_pck_hand_counts():
    gt = np.stack([_frame(), _frame()])
    torso = np.array([10.0, 10.0])
    pred = gt.copy()
    pred[0, 5] += [1.5, 0]      # 0.15 torso: correct
    pred[0, 6] += [0, 2.0]      # 0.20 torso: correct (<=)
    pred[0, 7] += [3.0, 0]      # 0.30: wrong
    pred[0, 0] += [50.0, 0]     # the nose is not scored
    pred[1] = np.nan            # a miss: 12 failures
    assert pck(pred, gt, torso) == pytest.approx(11 / 24)
    err, _ = normalized_errors(pred, gt, torso)
    assert err.shape == (2, 12) and err[0, 2] == pytest.approx(0.3) and np.isnan(err[1]).all()
    s = summarize(*normalized_errors(pred, gt, torso))
    assert s['frames'] == 2 and s['detection'] == 0.5 and s['pck'] == pytest.approx(11 / 24)
    assert s['ne_mean'] == pytest.approx((0.15 + 0.2 + 0.3) / 12)  # detected frames only
    assert pck(gt, gt, torso, threshold=1e-9) == 1.0


def test_swapped_pose_fails_plain_pck_and_passes_swap_tolerant():
    gt = _frame()[None]
    torso = np.array([10.0])
    from vpd_mm.pose import COCO17_FLIP_INDEX
    swapped = gt[:, COCO17_FLIP_INDEX]  # right joints labelled left and vice versa, same pixels
    assert pck(swapped, gt, torso) == 0.0
    assert pck(swapped, gt, torso, swap_tolerant=True) == 1.0
    s = summarize(*normalized_errors(swapped, gt, torso))
    assert s['swap_rate'] == 1.0 and s['ne_flip_mean'] == pytest.approx(0.0) and s['ne_mean'] > 0.5
    # a correct pose is not "improved" by swapping
    assert summarize(*normalized_errors(gt, gt, torso))['swap_rate'] == 0.0
    with pytest.raises(ValueError, match='shapes differ'):
        pck(gt[:, :5], gt, torso)


def test_corpus_report_on_ground_truth_and_on_a_degraded_copy(tiny_mocap, tmp_path):
    corpus = Corpus(shutil.copytree(tiny_mocap.root, str(tmp_path / 'corpus')))
    shutil.copytree(corpus.path('gt_pose'), corpus.path('gt_copy'))
    report = evaluate_corpus(corpus, pose_dir='gt_copy')
    subsets = report['subsets']
    assert subsets['all']['pck'] == 1.0 and subsets['all']['detection'] == 1.0
    assert subsets['sharp']['frames'] + subsets['blurred']['frames'] == subsets['all']['frames']
    assert subsets['slow']['frames'] + subsets['fast']['frames'] == subsets['all']['frames']
    assert sum(subsets[k]['frames'] for k in ('slow_sharp', 'slow_blurred', 'fast_sharp', 'fast_blurred')) == \
        subsets['all']['frames']
    assert subsets['fast']['frames'] > 0 and subsets['blurred']['frames'] > 0
    assert sum(r['all']['joints'] for r in report['by_joint_speed']) == 12 * subsets['all']['frames']
    test_only = evaluate_corpus(corpus, pose_dir='gt_copy', splits=['test'], actions_only=True)
    assert test_only['videos'] == 3 and test_only['subsets']['all']['frames'] < subsets['all']['frames']
    assert 'PCK@0.2' in format_report(report)

    # drop every second frame of one video's predictions: misses count as failures
    video = corpus.video_ids()[0]
    path = corpus.path('gt_copy', video + '.npz')
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    keep = np.arange(len(arrays['frames'])) % 2 == 0
    np.savez(path, frames=arrays['frames'][keep], keypoints=arrays['keypoints'][keep],
             scores=arrays['scores'][keep], boxes=arrays['boxes'][keep])
    degraded = evaluate_corpus(corpus, pose_dir='gt_copy')['subsets']['all']
    dropped = int((~keep).sum())
    assert degraded['pck'] == pytest.approx(1 - dropped / subsets['all']['frames'])
    assert degraded['ne_mean'] == pytest.approx(0.0)

    # the tool prints the table and writes the JSON
    out = str(tmp_path / 'r.json')
    load_tool('tools/teacher_pck.py').main([corpus.root, '--pose-dir', 'gt_copy', '--out', out])
    assert json.load(open(out))['subsets']['all']['frames'] == subsets['all']['frames']
    with pytest.raises(SystemExit, match='error: .*nope/ms_0000.npz: file: does not exist'):
        load_tool('tools/teacher_pck.py').main([corpus.root, '--pose-dir', 'nope'])
