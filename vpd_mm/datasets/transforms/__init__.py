"""Transforms of the distillation pipeline (registered in ``mmaction.registry.TRANSFORMS``).

Training: ``LoadCropAndFlow`` -> ``MirrorCropAndTarget`` -> ``CropColorJitter`` -> ``BackgroundNoise`` ->
``ResizedCropWithFlow`` -> ``PackDistillInputs``. Validation and feature extraction: ``LoadCropAndFlow`` ->
``PackDistillInputs`` (no augmentation; the reference augments its validation frames too, its bug 2).
"""
from .augment import BackgroundNoise, CropColorJitter, MirrorCropAndTarget, ResizedCropWithFlow
from .formatting import PackDistillInputs
from .loading import LoadCropAndFlow

__all__ = ['LoadCropAndFlow', 'MirrorCropAndTarget', 'CropColorJitter', 'BackgroundNoise', 'ResizedCropWithFlow',
           'PackDistillInputs']
