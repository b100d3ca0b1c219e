"""``TemporalDetectionAP``: windows stitched back into videos, views averaged, AP@tIoU on a hand-computed set."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import vpd_mm  # noqa: F401  (registration)
from mmaction.registry import METRICS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.evaluator import Evaluator

from conftest import REPO
from vpd_mm.evaluation.detection_metric import TemporalDetectionAP, stitch_windows

WINDOW = 10


def _view_scores() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Two videos: ``{video: (view-0 scores, view-1 scores, labels)}``.

    Video ``a`` (30 frames, actions [1, 7) and [11, 17)):
      view 0: 1.0 on [1, 7), 0.6 on [9, 15), 0.9 on [22, 28)
      view 1: 0.6 on [1, 7), 0.6 on [9, 15), 0.0 on [22, 28)
      mean:   0.8 on [1, 7), 0.6 on [9, 15) (crosses the window boundary at 10), 0.45 on [22, 28) (below 0.5)
    Video ``b`` (10 frames, no action): 0.7 on [3, 9) in both views.
    """
    a0, a1, la = np.zeros(30), np.zeros(30), np.zeros(30, np.int64)
    a0[1:7], a1[1:7] = 1.0, 0.6
    a0[9:15] = a1[9:15] = 0.6
    a0[22:28] = 0.9
    la[1:7] = la[11:17] = 1
    b = np.zeros(10)
    b[3:9] = 0.7
    return {'a': (a0, a1, la), 'b': (b, b.copy(), np.zeros(10, np.int64))}


def _samples(order_seed: int | None = None) -> list[dict]:
    """The windows (10 frames, one view each) as the data samples the detector returns, as dicts."""
    samples = []
    for video, (v0, v1, labels) in _view_scores().items():
        for view, scores in enumerate((v0, v1)):
            for start in range(0, len(labels), WINDOW):
                sample = ActionDataSample()
                sample.set_metainfo(dict(video_id=video, start=start, views=(view,), length=WINDOW))
                sample.gt_frame_labels = torch.as_tensor(labels[start:start + WINDOW])
                sample.pred_frame_scores = torch.as_tensor(scores[start:start + WINDOW], dtype=torch.float32)
                samples.append(sample.to_dict())
    if order_seed is not None:
        order = np.random.default_rng(order_seed).permutation(len(samples))
        samples = [samples[i] for i in order]
    return samples


def test_stitch_windows_averages_views_and_joins_windows():
    windows = [dict(video_id=s['video_id'], start=s['start'], scores=s['pred_frame_scores'].numpy(),
                    labels=s['gt_frame_labels'].numpy()) for s in _samples(order_seed=3)]
    videos = stitch_windows(windows)
    assert set(videos) == {'a', 'b'}
    scores, labels = videos['a']
    expected = np.zeros(30)
    expected[1:7], expected[9:15], expected[22:28] = 0.8, 0.6, 0.45
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    assert labels.tolist() == [0] + [1] * 6 + [0] * 4 + [1] * 6 + [0] * 13
    assert len(videos['b'][0]) == 10 and not videos['b'][1].any()


def test_stitch_windows_rejects_inconsistent_windows():
    window = dict(video_id='a', start=0, scores=np.zeros(4), labels=np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="video 'a', window at frame 0: 4 scores but 3 labels"):
        stitch_windows([dict(window, labels=np.zeros(3, np.int64))])
    with pytest.raises(ValueError, match="video 'a': windows disagree on the labels of frames 0..3"):
        stitch_windows([window, dict(window, labels=np.ones(4, np.int64))])


def test_ap_at_tiou_hand_computed():
    """Proposals at threshold 0.5 (gaps of 1 merged, at least 5 frames), ranked by mean score:
    a [1, 7) 0.8 (IoU 1 with [1, 7): TP), b [3, 9) 0.7 (no action in b: FP), a [9, 15) 0.6 (IoU 4 / 8 = 0.5 with
    [11, 17): TP up to tIoU 0.5). The run [22, 28) of video a is 0.45 after averaging the views: no proposal.
    tIoU <= 0.5: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
    tIoU > 0.5: precision 1, 1/2, 1/3 at recall 1/2 -> AP = 1/2.  mAP over 0.3..0.7 = (3 * 5/6 + 2 * 1/2) / 5 = 0.7.
    """
    metric = TemporalDetectionAP()
    metric.process({}, _samples(order_seed=0))
    result = metric.compute_metrics(metric.results)
    expected = {'AP@0.3': 5 / 6, 'AP@0.4': 5 / 6, 'AP@0.5': 5 / 6, 'AP@0.6': 0.5, 'AP@0.7': 0.5, 'mAP': 0.7}
    assert result == pytest.approx(expected)
    # a lower activation threshold turns video a's [22, 28) (0.45) into a false positive ranked last:
    # tIoU <= 0.5: precision 1, 1/2, 2/3, 1/2 -> AP still 5/6; tIoU > 0.5 unchanged
    low = TemporalDetectionAP(threshold=0.4, tious=(0.5, 0.7))
    low.process({}, _samples())
    assert low.compute_metrics(low.results) == pytest.approx({'AP@0.5': 5 / 6, 'AP@0.7': 0.5, 'mAP': 2 / 3})
    # min_length 7 drops every proposal (each is 6 frames long): AP 0
    strict = TemporalDetectionAP(min_length=7, tious=(0.5,))
    strict.process({}, _samples())
    assert strict.compute_metrics(strict.results) == {'AP@0.5': 0.0, 'mAP': 0.0}


def test_registered_and_prefixed_through_the_evaluator():
    evaluator = Evaluator([METRICS.build(dict(type='TemporalDetectionAP', tious=(0.5,)))])
    samples = [ActionDataSample(**{k: v for k, v in s.items() if k in ('gt_frame_labels', 'pred_frame_scores')},
                                metainfo={k: s[k] for k in ('video_id', 'start', 'views')}) for s in _samples()]
    evaluator.process(samples, None)
    assert evaluator.evaluate(len(samples)) == pytest.approx({'detection/AP@0.5': 5 / 6, 'detection/mAP': 5 / 6})


def test_no_action_gives_nan_not_an_error():
    metric = TemporalDetectionAP(tious=(0.5,))
    metric.process({}, [s for s in _samples() if s['video_id'] == 'b'])
    result = metric.compute_metrics(metric.results)
    assert set(result) == {'AP@0.5', 'mAP'} and all(math.isnan(v) for v in result.values())


def test_bad_tious_are_refused():
    with pytest.raises(ValueError, match='tious must be'):
        TemporalDetectionAP(tious=())
    with pytest.raises(ValueError, match='tious must be'):
        TemporalDetectionAP(tious=(0.5, 1.5))


def test_detection_configs_report_ap_at_tiou():
    import glob
    import os.path as osp
    paths = sorted(glob.glob(osp.join(REPO, 'configs', 'detection', '*.py')))
    assert len(paths) >= 9
    for path in paths:
        cfg = Config.fromfile(path)
        types = [e['type'] for e in cfg.test_evaluator]
        assert types == ['FrameAccuracy', 'TemporalDetectionAP'], path
        assert tuple(cfg.test_evaluator[1]['tious']) == (0.3, 0.4, 0.5, 0.6, 0.7)
        assert cfg.test_dataloader.dataset['mode'] == 'tiles'
        assert cfg.default_hooks.checkpoint.save_best == 'frame/acc'  # model selection unchanged
