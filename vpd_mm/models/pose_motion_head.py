"""The VPD decoder D and the distillation loss (paper Eq. 1; spec section 3.3).

With motion (the method): D = Linear(d, 128) -> ReLU -> Linear(128, 128) -> ReLU -> Linear(128, 2d) predicts
``[p_t, delta p_t]`` from F(x); without motion (the ablation) there is no D and F(x) regresses ``p_t`` directly.
The loss is the squared error summed over the dimensions of each frame, with equal weight on ``p_t`` and
``delta p_t``, averaged over the frames of the batch. (The reference sums over the batch as well; with AdamW the
constant factor only interacts with epsilon, and a per-frame mean keeps the figure comparable across batch sizes
and between training and validation.) D is used only during distillation: feature extraction keeps F.
"""
from __future__ import annotations

from typing import Sequence

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import nn

__all__ = ['PoseMotionHead', 'stack_targets']


def stack_targets(data_samples: Sequence, with_motion: bool, device: torch.device | None = None) -> torch.Tensor:
    """Targets of a batch: ``gt_pose`` (d,) and, with motion, ``gt_motion`` (d,) of each sample.

    Returns:
        torch.Tensor: (N, 2d) ``[p_t, delta p_t]`` with motion, else (N, d) ``p_t``; float32.
    """
    pose = torch.stack([s.gt_pose for s in data_samples]).float()
    if with_motion:
        pose = torch.cat([pose, torch.stack([s.gt_motion for s in data_samples]).float()], dim=1)
    return pose if device is None else pose.to(device)


@MODELS.register_module()
class PoseMotionHead(BaseModule):
    """Decoder D ``d -> 128 -> 128 -> 2d`` predicting ``[p_t, delta p_t]``, and the squared-error loss.

    Args:
        in_dim (int): descriptor dimension d (the teacher's).
        hidden (Sequence[int]): hidden widths of D. Defaults to (128, 128).
        with_motion (bool): False for the "without motion" ablation: no D, F regresses ``p_t``.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self, in_dim: int, hidden: Sequence[int] = (128, 128), with_motion: bool = True,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        self.in_dim, self.with_motion = in_dim, with_motion
        if with_motion:
            layers: list[nn.Module] = []
            width = in_dim
            for h in hidden:
                layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
                width = h
            layers.append(nn.Linear(width, 2 * in_dim))
            self.decoder: nn.Module = nn.Sequential(*layers)
        else:
            self.decoder = nn.Identity()

    @property
    def out_dim(self) -> int:
        """Width of the prediction: 2d with motion, d without."""
        return 2 * self.in_dim if self.with_motion else self.in_dim

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """D(F(x)).

        Args:
            feats (torch.Tensor): (N, d) descriptors.

        Returns:
            torch.Tensor: (N, 2d) ``[p_t, delta p_t]`` with motion, else (N, d) ``p_t`` (float32).
        """
        return self.decoder(feats).float()

    def squared_errors(self, pred: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-frame squared errors of the pose half and the motion half.

        Args:
            pred (torch.Tensor): (N, out_dim) predictions.
            target (torch.Tensor): (N, out_dim) targets.

        Returns:
            dict[str, torch.Tensor]: ``pose`` (N,) and, with motion, ``motion`` (N,).
        """
        if pred.shape != target.shape:
            raise ValueError(f'prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ')
        sq = (pred.float() - target.float()) ** 2
        out = {'pose': sq[:, :self.in_dim].sum(dim=1)}
        if self.with_motion:
            out['motion'] = sq[:, self.in_dim:].sum(dim=1)
        return out

    def loss(self, feats: torch.Tensor, data_samples: Sequence) -> dict[str, torch.Tensor]:
        """Eq. 1: ``||D(F(x)) - [p_t, delta p_t]||^2`` per frame, averaged over the batch.

        Returns:
            dict[str, torch.Tensor]: ``loss_pose`` and (with motion) ``loss_motion``; mmengine sums them.
        """
        target = stack_targets(data_samples, self.with_motion, feats.device)
        errors = self.squared_errors(self(feats), target)
        return {f'loss_{name}': value.mean() for name, value in errors.items()}
