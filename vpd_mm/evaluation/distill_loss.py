"""Validation loss of the distillation (paper Eq. 1) as an mmengine metric, for model selection."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric

__all__ = ['DistillLossMetric']


def _array(value: Any) -> np.ndarray:
    return value.detach().cpu().float().numpy() if hasattr(value, 'detach') else np.asarray(value, np.float32)


@METRICS.register_module()
class DistillLossMetric(BaseMetric):
    """Mean per-frame squared error of ``pred_target`` against ``[gt_pose, gt_motion]``.

    The same quantity as the training loss (``PoseMotionHead.loss``), computed on the (unaugmented) validation
    frames. Keys (with the default prefix ``val``): ``val/loss`` (pose + motion), ``val/loss_pose``,
    ``val/loss_motion`` (with motion), and ``val/loss_const``: the loss of the best constant prediction, the
    validation targets' own mean (the sum of their per-dimension variances), a floor any useful student must beat.

    Args:
        collect_device (str): ``'cpu'`` or ``'gpu'``. Default ``'cpu'``.
        prefix (str): key prefix. Default ``'val'``.
    """

    default_prefix = 'val'

    def __init__(self, collect_device: str = 'cpu', prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep each frame's prediction and target."""
        for sample in data_samples:
            target = _array(sample['gt_pose'])
            if 'gt_motion' in sample:
                target = np.concatenate([target, _array(sample['gt_motion'])])
            pred = _array(sample['pred_target'])
            if pred.shape != target.shape:
                raise ValueError(f'prediction {pred.shape} and target {target.shape} differ (a model with motion '
                                 'needs a dataset with_motion=True, and the other way round)')
            self.results.append(dict(pred=pred, target=target, dim=len(_array(sample['gt_pose']))))

    def compute_metrics(self, results: list) -> dict[str, float]:
        """Mean per-frame squared errors over all validation frames."""
        pred = np.stack([r['pred'] for r in results]).astype(np.float64)
        target = np.stack([r['target'] for r in results]).astype(np.float64)
        dim = results[0]['dim']
        sq = (pred - target) ** 2
        out = {'loss': float(sq.sum(axis=1).mean()), 'loss_pose': float(sq[:, :dim].sum(axis=1).mean())}
        if target.shape[1] > dim:
            out['loss_motion'] = float(sq[:, dim:].sum(axis=1).mean())
        out['loss_const'] = float(target.var(axis=0).sum())
        return out
