"""Training and inference plumbing of the distillation: model-selection hook, AMP-when-CUDA optimizer wrapper,
student feature extraction (registered in mmaction2's HOOKS / OPTIM_WRAPPERS)."""
from .hooks import LossMovingAverageHook
from .optim import AmpOptimWrapperIfCuda

__all__ = ['LossMovingAverageHook', 'AmpOptimWrapperIfCuda']
