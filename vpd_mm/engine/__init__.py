"""Training and inference plumbing of the distillation: model-selection hook, AMP-when-CUDA optimizer wrapper,
student feature extraction (registered in mmaction2's HOOKS / OPTIM_WRAPPERS)."""
from .feature_extraction import StudentExtractor, extract_features, load_student
from .hooks import LossMovingAverageHook
from .optim import AmpOptimWrapperIfCuda

__all__ = ['LossMovingAverageHook', 'AmpOptimWrapperIfCuda', 'StudentExtractor', 'extract_features', 'load_student']
