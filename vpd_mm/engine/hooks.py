"""Model selection on the moving average of the validation loss (reference ``--model_select_window 5``)."""
from __future__ import annotations

from typing import Any

from mmaction.registry import HOOKS
from mmengine.hooks import Hook

__all__ = ['LossMovingAverageHook']


@HOOKS.register_module()
class LossMovingAverageHook(Hook):
    """Add the mean of the last ``window`` values of ``key`` to the validation metrics as ``out_key``.

    Runs after each validation epoch, before ``CheckpointHook`` (which has priority VERY_LOW), so
    ``CheckpointHook(save_best='val/loss_ma5', rule='less')`` keeps the checkpoint with the lowest moving average.
    Until ``window`` validations have run, the mean covers those there are. The history is saved in the checkpoint
    (``meta['loss_history']``) and restored on ``--resume``, so a resumed run selects as an uninterrupted one.

    Args:
        key (str): metric to average. Default ``'val/loss'`` (``DistillLossMetric``).
        window (int): number of validation epochs. Default 5.
        out_key (str, optional): name of the average; default ``f'{key}_ma{window}'``.
    """

    priority = 'NORMAL'

    def __init__(self, key: str = 'val/loss', window: int = 5, out_key: str | None = None) -> None:
        if window < 1:
            raise ValueError(f'window must be positive, got {window}')
        self.key, self.window = key, window
        self.out_key = out_key or f'{key}_ma{window}'
        self.history: list[float] = []

    def after_val_epoch(self, runner: Any, metrics: dict[str, float] | None = None) -> None:
        """Append the new value and publish the average in ``metrics`` and the message hub."""
        if not metrics:
            return
        if self.key not in metrics:
            raise KeyError(f'LossMovingAverageHook: validation metrics have no {self.key!r} (got {sorted(metrics)}); '
                           'add DistillLossMetric to val_evaluator')
        self.history.append(float(metrics[self.key]))
        recent = self.history[-self.window:]
        average = sum(recent) / len(recent)
        metrics[self.out_key] = average
        runner.message_hub.update_scalar(f'val/{self.out_key}', average)

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        """Keep the history in the checkpoint."""
        checkpoint.setdefault('meta', {})['loss_history'] = list(self.history)

    def after_load_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        """Restore the history on resume."""
        history = checkpoint.get('meta', {}).get('loss_history')
        if history is not None:
            self.history = [float(v) for v in history]
