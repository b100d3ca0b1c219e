"""Proposals from per-frame scores and AP at temporal IoU, on hand-computed toy sets."""
from __future__ import annotations

import numpy as np
import pytest

from vpd_mm.evaluation import detection_ap, detection_ap_table, proposals_from_scores, video_proposals
from vpd_mm.evaluation.detection import merge_ground_truth, normalize_length, temporal_iou, threshold_runs

SCORES = np.array([0, 0, .9, .9, .9, 0, .8, .8, 0, 0, 0, .7, .7, 0, 0])


def test_runs_gap_merged_and_short_run_dropped():
    assert threshold_runs(SCORES, 0.5) == [(2, 5), (6, 8), (11, 13)]
    # [2,5) and [6,8) are one frame apart: merged into [2,8) (6 frames, kept); [11,13) is 2 frames: dropped
    props = proposals_from_scores(SCORES, 0.5, max_gap=1, min_length=5)
    assert len(props) == 1
    start, end, score = props[0]
    assert (start, end) == (2, 8)
    assert score == pytest.approx((3 * .9 + 0 + 2 * .8) / 6)
    # without merging (what the reference effectively does) both pieces are too short: the action is lost
    assert proposals_from_scores(SCORES, 0.5, max_gap=0, min_length=5) == []
    # a larger gap tolerance joins everything
    assert [p[:2] for p in proposals_from_scores(SCORES, 0.5, max_gap=3)] == [(2, 13)]


def test_length_normalisation():
    # mean training length 10: allowed 6.7 .. 13.3 frames
    assert normalize_length(2, 8, 10) == (2, 9)  # 6 < 6.7 -> 7 frames around centre 5
    assert normalize_length(0, 20, 10) == (4, 17)  # 20 > 13.3 -> 13 frames around centre 10
    assert normalize_length(3, 13, 10) == (3, 13)  # within range: unchanged
    assert normalize_length(6, 10, 10, num_frames=10) == (3, 10)  # shifted to stay inside the video
    props = proposals_from_scores(SCORES, 0.5, mean_length=10)
    assert [p[:2] for p in props] == [(2, 9)]
    assert props[0][2] == pytest.approx((3 * .9 + 0 + 2 * .8) / 6)  # score of the run before normalisation


def test_video_proposals_format():
    props = video_proposals({'a': SCORES, 'b': np.zeros(5)}, 0.5)
    assert props == [('a', 2, 8, pytest.approx(4.3 / 6))]


GT = [('a', 0, 10), ('a', 20, 30), ('b', 5, 15)]
PROPOSALS = [
    ('a', 0, 10, 0.9),   # IoU 1 with a[0, 10)
    ('b', 0, 10, 0.8),   # IoU 5/15 = 1/3 with b[5, 15)
    ('a', 1, 9, 0.7),    # a[0, 10) already matched; IoU 0 with a[20, 30)
    ('a', 22, 32, 0.6),  # IoU 8/12 = 2/3 with a[20, 30)
    ('c', 0, 5, 0.5),    # a video without ground truth
]


def test_ap_by_hand():
    # tIoU 0.5: TP FP FP TP FP -> precision 1 .5 .33 .5 .4, recall 1/3 1/3 1/3 2/3 2/3;
    #   monotone precision 1 .5 .5 .5 .4 -> AP = 1/3 * 1 + 1/3 * .5 = .5
    assert detection_ap(PROPOSALS, GT, 0.5) == pytest.approx(0.5)
    # tIoU 0.3: TP TP FP TP FP -> precision 1 1 .67 .75 .6, recall 1/3 2/3 2/3 1 1 -> 1/3 + 1/3 + 1/3 * .75
    assert detection_ap(PROPOSALS, GT, 0.3) == pytest.approx(1 / 3 + 1 / 3 + 0.25)
    # tIoU 0.7: only the first -> 1/3
    assert detection_ap(PROPOSALS, GT, 0.7) == pytest.approx(1 / 3)
    table = detection_ap_table(PROPOSALS, GT)
    assert list(table) == [0.3, 0.4, 0.5, 0.6, 0.7]
    assert table[0.3] == pytest.approx(11 / 12) and table[0.4] == pytest.approx(0.5)
    # the order of the input list does not matter, only the scores
    assert detection_ap(PROPOSALS[::-1], GT, 0.5) == pytest.approx(0.5)


def test_one_proposal_matches_one_ground_truth():
    gt = [('v', 0, 10), ('v', 11, 21)]
    spanning = ('v', 0, 21, 1.0)  # IoU 10/21 with each
    assert temporal_iou((0, 21), (0, 10)) == pytest.approx(10 / 21)
    assert detection_ap([spanning], gt, 0.3) == pytest.approx(0.5)
    assert detection_ap([spanning, ('v', 11, 21, 0.5)], gt, 0.3) == pytest.approx(1.0)


def test_ground_truth_overlaps_merged_and_edge_cases():
    assert merge_ground_truth([('v', 0, 10), ('v', 5, 15), ('v', 15, 20)]) == {'v': [(0, 15), (15, 20)]}
    assert detection_ap([('v', 0, 15, 1.0)], [('v', 0, 10), ('v', 5, 15)], 0.9) == pytest.approx(1.0)
    assert detection_ap([], GT, 0.5) == 0.0
    with pytest.raises(ValueError, match='no ground-truth'):
        detection_ap(PROPOSALS, [], 0.5)
    with pytest.raises(ValueError, match='start < end'):
        detection_ap([('a', 5, 5, 1.0)], GT, 0.5)
    with pytest.raises(ValueError, match='NaN'):
        detection_ap([('a', 0, 5, float('nan'))], GT, 0.5)
    with pytest.raises(ValueError, match='NaN'):
        proposals_from_scores(np.array([0.1, np.nan]), 0.5)


def test_precision_is_made_monotone_by_hand():
    # FP TP TP, 2 ground truths: precision 0 1/2 2/3, recall 0 1/2 1. The best precision at recall >= 1/2 is 2/3
    # (reached later), so AP = 1/2 * 2/3 + 1/2 * 2/3 = 2/3; without the monotone step it would be
    # 1/2 * 1/2 + 1/2 * 2/3 = 7/12.
    gt = [('v', 0, 10), ('v', 20, 30)]
    proposals = [('v', 40, 50, 0.9), ('v', 0, 10, 0.8), ('v', 20, 30, 0.7)]
    assert detection_ap(proposals, gt, 0.5) == pytest.approx(2 / 3)
    # TP FP FP TP TP TP, 4 ground truths: precision 1 1/2 1/3 1/2 3/5 2/3 at recall 1/4 1/4 1/4 1/2 3/4 1;
    # monotone precision at the true positives 1, 2/3, 2/3, 2/3 -> AP = (1 + 3 * 2/3) / 4 = 3/4
    # (without the monotone step (1 + 1/2 + 3/5 + 2/3) / 4 = 83/120).
    gt = [('v', 0, 10), ('v', 20, 30), ('v', 40, 50), ('w', 0, 10)]
    proposals = [('v', 0, 10, 0.9), ('v', 60, 70, 0.8), ('x', 0, 10, 0.7), ('v', 20, 30, 0.6),
                 ('v', 40, 50, 0.5), ('w', 1, 10, 0.4)]
    assert detection_ap(proposals, gt, 0.5) == pytest.approx(3 / 4)


def test_tiou_boundary_counts_as_a_match():
    gt = [('v', 0, 10)]
    # IoU exactly equal to the threshold is a true positive (>=): [0, 5) vs [0, 10) is 5/10, [5, 15) is 5/15
    assert temporal_iou((0, 5), (0, 10)) == 0.5
    assert detection_ap([('v', 0, 5, 1.0)], gt, 0.5) == 1.0
    assert detection_ap([('v', 0, 5, 1.0)], gt, np.nextafter(0.5, 1)) == 0.0
    assert temporal_iou((5, 15), (0, 10)) == 1 / 3
    assert detection_ap([('v', 5, 15, 1.0)], gt, 1 / 3) == 1.0
    assert detection_ap([('v', 5, 15, 1.0)], gt, np.nextafter(1 / 3, 1)) == 0.0
    # the paper's thresholds, reached exactly by 3/10 and 7/10
    assert detection_ap([('v', 0, 3, 1.0)], gt, 0.3) == 1.0
    assert detection_ap([('v', 0, 7, 1.0)], gt, 0.7) == 1.0


def _mmaction_ap(proposals, gt, tious) -> np.ndarray:
    from mmaction.evaluation.functional import average_precision_at_temporal_iou
    ground_truth: dict = {}
    for video_id, start, end in gt:
        ground_truth.setdefault(video_id, []).append([start, end])
    prediction = [[video_id, 0, start, end, score] for video_id, start, end, score in proposals]
    return average_precision_at_temporal_iou({k: np.array(v, dtype=float) for k, v in ground_truth.items()},
                                             prediction, np.array(tious))


def test_matches_mmaction2_average_precision_at_temporal_iou():
    """mmaction2's ``average_precision_at_temporal_iou`` (ActivityNet-style, VOC 2011 interpolation) agrees on
    random cases whose ground truth does not overlap (we merge overlapping ground truth, mmaction2 does not) and
    whose scores are distinct (the tie orders differ). The one difference by design: mmaction2 stores the IoU in
    float32, so an IoU exactly at the threshold can round below it and be a false positive there (7/10 becomes
    0.69999999 < 0.7), while here it is a true positive (test_tiou_boundary_counts_as_a_match)."""
    import vpd_mm  # noqa: F401  (mmaction2's evaluation modules need the numpy-2 aliases of vpd_mm.compat)
    rng = np.random.default_rng(0)
    tious = (0.3, 0.4, 0.5, 0.6, 0.7)
    compared = 0
    for _ in range(150):
        gt = []
        for video in range(int(rng.integers(1, 4))):
            edges = np.sort(rng.uniform(0, 200, size=2 * int(rng.integers(1, 5))))
            gt += [(f'v{video}', float(a), float(b)) for a, b in zip(edges[0::2], edges[1::2])]
        proposals = []
        for score in rng.permutation(int(rng.integers(1, 25))) / 25 + rng.uniform(0, 1e-3):
            video = f'v{int(rng.integers(0, 4))}'  # v3 never has ground truth: always a false positive
            start = float(rng.uniform(0, 190))
            proposals.append((video, start, start + float(rng.uniform(1, 60)), float(score)))
        ours = [detection_ap(proposals, gt, t) for t in tious]
        np.testing.assert_allclose(ours, _mmaction_ap(proposals, gt, tious), atol=1e-6)
        compared += sum(0 < a < 1 for a in ours)
    assert compared > 100  # most cases are neither trivial 0 nor 1

    # the documented difference: IoU exactly 0.7 (and 0.3, which float32 rounds up, agrees)
    exact = [('v', 0, 7, 1.0)], [('v', 0, 10)]
    assert detection_ap(*exact, 0.7) == 1.0 and _mmaction_ap(*exact, [0.7])[0] == 0.0
    exact = [('v', 0, 3, 1.0)], [('v', 0, 10)]
    assert detection_ap(*exact, 0.3) == 1.0 and _mmaction_ap(*exact, [0.3])[0] == 1.0
