"""``TemporalDetectionAP``: AP at temporal IoU thresholds as an mmengine metric, for ``tools/test.py`` (and
``tools/train.py``'s validation) on the detection configs (``configs/detection/*``).

The detector (:class:`~vpd_mm.models.FrameBiGRUDetector`) predicts ``pred_frame_scores`` for each window that
:class:`~vpd_mm.datasets.FrameWindowDataset` serves (``mode='tiles'``: every video cut into consecutive windows,
each view separately). The metric puts the windows back together:

1. per video, the score of frame ``t`` is the mean over every window (and so every view) covering ``t``; the
   ground truth is ``gt_frame_labels`` (1 inside an action's detection interval);
2. proposals come from :func:`~vpd_mm.evaluation.detection.video_proposals` (frames >= ``threshold``, runs
   separated by at most ``max_gap`` frames merged, runs shorter than ``min_length`` dropped, optional length
   normalisation to ``mean_length``), ground-truth intervals are the runs of label 1;
3. :func:`~vpd_mm.evaluation.detection.detection_ap` at each tIoU, over all videos together.

Keys: ``detection/AP@<tIoU>`` for each threshold and ``detection/mAP`` (their mean).

Differences from the protocol (``tools/detect.py``, :mod:`vpd_mm.protocols.detection`), which remains the way to
report the paper's numbers: there, the activation threshold is chosen on the out-of-fold validation scores of a
5-model ensemble, whole videos go through the BiGRU in one pass, ground truth comes from the actions (two
actions that touch stay two intervals) and lengths are normalised to the mean training interval. Here the
threshold is fixed (default 0.5; set it to the one ``tools/detect.py`` chose), the BiGRU sees each window on its
own, and touching actions are one interval.
"""
from __future__ import annotations

import math
from typing import Any, Hashable, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmaction.registry import METRICS

from .detection import DEFAULT_TIOUS, detection_ap, threshold_runs, video_proposals

__all__ = ['TemporalDetectionAP', 'stitch_windows']


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def stitch_windows(windows: Sequence[dict]) -> dict[Hashable, tuple[np.ndarray, np.ndarray]]:
    """Whole-video frame scores and labels from window predictions.

    Args:
        windows (Sequence[dict]): one dict per window: ``video_id``, ``start`` (first frame of the window in its
            video), ``scores`` (L,) float and ``labels`` (L,) int.

    Returns:
        dict: ``{video_id: (scores (T,) float64, labels (T,) int64)}`` with ``T`` the end of the last window; a
        frame's score is the mean over the windows covering it (0 where none does), its label the windows' label
        (0 where none covers it).

    Raises:
        ValueError: a window's scores and labels differ in length, or two windows disagree on a frame's label.
    """
    by_video: dict[Hashable, list[dict]] = {}
    for window in windows:
        if len(window['scores']) != len(window['labels']):
            raise ValueError(f"video {window['video_id']!r}, window at frame {window['start']}: "
                             f"{len(window['scores'])} scores but {len(window['labels'])} labels")
        by_video.setdefault(window['video_id'], []).append(window)
    out = {}
    for video_id, parts in by_video.items():
        length = max(int(w['start']) + len(w['scores']) for w in parts)
        total = np.zeros(length)
        count = np.zeros(length)
        labels = np.full(length, -1, np.int64)
        for window in parts:
            span = slice(int(window['start']), int(window['start']) + len(window['scores']))
            window_labels = np.asarray(window['labels'], np.int64)
            seen = labels[span]
            if ((seen >= 0) & (seen != window_labels)).any():
                raise ValueError(f'video {video_id!r}: windows disagree on the labels of frames {span.start}..'
                                 f'{span.stop - 1}')
            labels[span] = window_labels
            total[span] += np.asarray(window['scores'], np.float64)
            count[span] += 1
        scores = np.divide(total, count, out=np.zeros(length), where=count > 0)
        out[video_id] = (scores, np.maximum(labels, 0))
    return out


@METRICS.register_module()
class TemporalDetectionAP(BaseMetric):
    """AP at temporal IoU thresholds of proposals made from per-frame action scores (module docstring).

    Reads, from every data sample: ``pred_frame_scores`` (L,), ``gt_frame_labels`` (L,) and the metainfo
    ``video_id`` and ``start`` (the window's first frame, 0 for whole videos).

    Args:
        tious (Sequence[float]): temporal IoU thresholds (the paper's 0.3, 0.4, 0.5, 0.6, 0.7).
        threshold (float): activation threshold on the frame scores.
        max_gap (int): runs separated by at most this many frames below the threshold are merged.
        min_length (int): shorter merged runs are dropped (the reference keeps runs of at least 5 frames).
        mean_length (float, optional): mean training interval length, for the length normalisation of the
            proposals (0.67-1.33 times it); None: no normalisation.
        collect_device (str): as mmengine's ``BaseMetric``.
        prefix (str, optional): key prefix (default ``'detection'``).

    Returns (``compute_metrics``): ``{'AP@0.3': ..., ..., 'mAP': ...}`` in [0, 1]; NaN, with a warning, when the
    evaluated videos hold no action.
    """

    default_prefix = 'detection'

    def __init__(self, tious: Sequence[float] = DEFAULT_TIOUS, threshold: float = 0.5, max_gap: int = 1,
                 min_length: int = 5, mean_length: float | None = None, collect_device: str = 'cpu',
                 prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not tious or not all(0 < float(t) <= 1 for t in tious):
            raise ValueError(f'tious must be a non-empty list of values in (0, 1], got {tious!r}')
        self.tious = tuple(float(t) for t in tious)
        self.threshold = float(threshold)
        self.proposal_cfg: dict[str, Any] = dict(max_gap=int(max_gap), min_length=int(min_length),
                                                 mean_length=mean_length)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep each window's scores, labels, video and start frame."""
        for sample in data_samples:
            self.results.append(dict(video_id=sample['video_id'], start=int(sample.get('start', 0)),
                                     scores=_numpy(sample['pred_frame_scores']).astype(np.float32),
                                     labels=_numpy(sample['gt_frame_labels']).astype(np.int64)))

    def compute_metrics(self, results: list) -> dict:
        """Stitch the windows into videos, make proposals, and compute AP at every tIoU."""
        videos = stitch_windows(results)
        scores = {video_id: s for video_id, (s, _) in videos.items()}
        ground_truth = [(video_id, start, end) for video_id, (_, labels) in videos.items()
                        for start, end in threshold_runs(labels.astype(np.float64), 0.5)]
        keys = [f'AP@{t:g}' for t in self.tious]
        if not ground_truth:
            print_log(f'{type(self).__name__}: the {len(videos)} evaluated videos hold no action frame; AP is NaN',
                      logger='current', level=30)
            return {**{k: math.nan for k in keys}, 'mAP': math.nan}
        proposals = video_proposals(scores, self.threshold, **self.proposal_cfg)
        aps = [detection_ap(proposals, ground_truth, t) for t in self.tious]
        return {**dict(zip(keys, aps)), 'mAP': float(np.mean(aps))}
