"""``FrameAccuracy``: per-frame accuracy of a binary frame classifier (model selection of the detector)."""
from __future__ import annotations

from typing import Any, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmaction.registry import METRICS

__all__ = ['FrameAccuracy']


@METRICS.register_module()
class FrameAccuracy(BaseMetric):
    """Fraction of frames whose thresholded score matches ``gt_frame_labels``.

    Reads ``pred_frame_scores`` (T,) and ``gt_frame_labels`` (T,) of every data sample. Reports ``frame/acc``
    (over all frames of all samples) and ``frame/action_recall`` (over the action frames; NaN-free: 0 when
    there are none).

    Args:
        threshold (float): a frame is "action" when its score is >= this.
    """

    default_prefix = 'frame'

    def __init__(self, threshold: float = 0.5, collect_device: str = 'cpu', prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.threshold = threshold

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            scores = torch.as_tensor(sample['pred_frame_scores']).cpu()
            labels = torch.as_tensor(sample['gt_frame_labels']).cpu()[:len(scores)]
            pred = (scores >= self.threshold).long()
            self.results.append(dict(correct=int((pred == labels).sum()), frames=int(len(labels)),
                                     hits=int(((pred == 1) & (labels == 1)).sum()), positives=int(labels.sum())))

    def compute_metrics(self, results: list) -> dict:
        frames = sum(r['frames'] for r in results)
        positives = sum(r['positives'] for r in results)
        return dict(acc=sum(r['correct'] for r in results) / max(frames, 1),
                    action_recall=sum(r['hits'] for r in results) / positives if positives else 0.0)
