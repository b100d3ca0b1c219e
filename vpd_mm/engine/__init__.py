"""Training plumbing of the distillation: model-selection hook and the AMP-when-CUDA optimizer wrapper
(registered in mmaction2's HOOKS / OPTIM_WRAPPERS)."""
from .hooks import LossMovingAverageHook
from .optim import AmpOptimWrapperIfCuda

__all__ = ['LossMovingAverageHook', 'AmpOptimWrapperIfCuda']
