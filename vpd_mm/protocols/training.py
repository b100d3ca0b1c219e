"""Training one model of a protocol run through mmengine's ``Runner``, resumable from its work dir."""
from __future__ import annotations

from typing import Any

__all__ = ['train_resumable']


def train_resumable(cfg: Any, work_dir: str, seed: int, experiment: str, quiet: bool) -> Any:
    """Train ``cfg`` in ``work_dir``, continuing an interrupted run from its last checkpoint.

    A checkpoint resumed from the work dir must be of this model (``StrictCheckpointHook``): never a partly
    random model.

    Args:
        cfg (mmengine.Config): the run's config (changed in place: work dir, seed, resume).
        work_dir (str): the run's folder.
        seed (int): its seed.
        experiment (str): mmengine's experiment name (the log folder's prefix).
        quiet (bool): log at WARNING level only.

    Returns:
        mmengine.runner.Runner: the runner after training.
    """
    from mmengine.runner import Runner
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.resume = True  # fresh start when the work dir holds no checkpoint
    cfg.load_from = None
    cfg.experiment_name = experiment
    cfg.custom_hooks = [*cfg.get('custom_hooks', []), dict(type='mmaction.StrictCheckpointHook')]
    if quiet:
        cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner
