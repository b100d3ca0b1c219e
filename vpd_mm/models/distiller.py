"""PoseDistiller: the model ``configs/vpd/*`` train, student F followed by decoder D (paper section 3.2).

Modes (mmengine ``BaseModel``): ``loss`` returns the distillation losses, ``predict`` attaches ``pred_target``
(D(F(x)), or F(x) without motion) and ``pred_feat`` (F(x)) to each data sample (the validation metric compares
them with ``gt_pose`` / ``gt_motion``), and ``tensor`` returns F(x) alone, the pose descriptor. D is not needed
after training: ``vpd_mm.stages.student_features`` keeps only the ``backbone.*`` weights.
"""
from __future__ import annotations

from typing import Sequence

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModel

__all__ = ['PoseDistiller']


@MODELS.register_module()
class PoseDistiller(BaseModel):
    """Student F (``backbone``) + decoder D and loss (``head``).

    Args:
        backbone (dict): config of the student, e.g. ``dict(type='VPDStudent', out_dim=64)``.
        head (dict): config of the decoder, e.g. ``dict(type='PoseMotionHead', in_dim=64)``.
        data_preprocessor (dict, optional): e.g. ``ActionDataPreprocessor`` with 5-channel mean/std.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self, backbone: dict, head: dict, data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ActionDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        if getattr(self.backbone, 'out_dim', None) != getattr(self.head, 'in_dim', None):
            raise ValueError(f'student out_dim {getattr(self.backbone, "out_dim", None)} differs from head in_dim '
                             f'{getattr(self.head, "in_dim", None)}')

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """F(x): (N, C, H, W) -> (N, d)."""
        return self.backbone(inputs)

    def forward(self, inputs: torch.Tensor, data_samples: Sequence | None = None,
                mode: str = 'tensor') -> dict | list | torch.Tensor:
        """Run in one of the modes ``'loss'``, ``'predict'``, ``'tensor'``.

        Args:
            inputs (torch.Tensor): (N, C, H, W) preprocessed crops.
            data_samples (Sequence, optional): samples with ``gt_pose`` (d,) and ``gt_motion`` (d,).
            mode (str): see the module docstring.

        Returns:
            dict | list | torch.Tensor: losses, data samples with predictions, or (N, d) descriptors.
        """
        feats = self.extract_feat(inputs)
        if mode == 'tensor':
            return feats
        if data_samples is None:
            raise ValueError(f'mode {mode!r} needs data_samples')
        if mode == 'loss':
            return self.head.loss(feats, data_samples)
        if mode == 'predict':
            preds = self.head(feats).detach()
            for sample, pred, feat in zip(data_samples, preds, feats.detach().float()):
                sample.pred_target = pred
                sample.pred_feat = feat
            return list(data_samples)
        raise ValueError(f'unknown mode {mode!r}; expected loss, predict or tensor')
