"""Mixed precision on a GPU, plain fp32 on a CPU, from one config."""
from __future__ import annotations

from typing import Any

import torch
from mmaction.registry import OPTIM_WRAPPERS
from mmengine.optim import AmpOptimWrapper, OptimWrapper

__all__ = ['AmpOptimWrapperIfCuda']


@OPTIM_WRAPPERS.register_module()
def AmpOptimWrapperIfCuda(optimizer: torch.optim.Optimizer, loss_scale: Any = 'dynamic',  # noqa: N802
                          dtype: Any = None, use_fsdp: bool = False, **kwargs: Any) -> OptimWrapper:
    """``AmpOptimWrapper`` when CUDA is available (the reference trains with AMP), else ``OptimWrapper``.

    mmengine's ``AmpOptimWrapper`` refuses to start without a GPU, so a config naming it cannot run on a CPU; this
    builder lets one config train on both. Arguments are those of ``AmpOptimWrapper``; on a CPU the AMP-only ones
    (``loss_scale``, ``dtype``, ``use_fsdp``) are dropped.

    Returns:
        OptimWrapper: the wrapper mmengine's optimizer constructor expects.
    """
    if torch.cuda.is_available():
        return AmpOptimWrapper(optimizer=optimizer, loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp, **kwargs)
    return OptimWrapper(optimizer=optimizer, **kwargs)
