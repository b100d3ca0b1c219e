"""Training plumbing: the distillation's model-selection hook, the data pipeline's heap thresholds, the
AMP-when-CUDA optimizer wrapper, and the checkpoint checks (strict loading, data-only model description),
registered in mmaction2's HOOKS / OPTIM_WRAPPERS."""
from .checkpoint import (CheckpointMismatchError, ModelSpecHook, StrictCheckpointHook, latest_checkpoint,
                         load_weights, read_model_spec)
from .hooks import LossMovingAverageHook
from .malloc import MallocThresholdHook, set_malloc_thresholds
from .optim import AmpOptimWrapperIfCuda

__all__ = ['LossMovingAverageHook', 'MallocThresholdHook', 'set_malloc_thresholds', 'AmpOptimWrapperIfCuda',
           'CheckpointMismatchError', 'ModelSpecHook', 'StrictCheckpointHook', 'latest_checkpoint', 'load_weights',
           'read_model_spec']
