"""``FrameBiGRUDetector``: per-frame binary action scores from a sequence of pose features (paper section 4.3).

Reference (``spec/reference_vpd.md`` section 8.2): input dropout 0.2, a bidirectional GRU (hidden 128, 2 layers),
and at every time step BN1d - Dropout(0.5) - Linear(256, 256) - ReLU - BN1d - Dropout(0.5) - Linear(256, 2),
trained with cross-entropy over all frames of 250-frame windows. At inference the probability of "action" is
averaged over the original and the mirrored features (and, in the protocol, over the ensemble members).

Inputs: ``(B, V, T, d)`` from :class:`vpd_mm.datasets.PackSequenceInputs`; targets ``gt_frame_labels`` (T,) in
{0, 1} on each data sample; lengths in ``metainfo['length']``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel

from mmaction.registry import MODELS

from .bigru import SequenceBiGRU, _check_inputs, mlp_head, sequence_lengths

__all__ = ['FrameBiGRUDetector']


@MODELS.register_module()
class FrameBiGRUDetector(BaseModel):
    """Per-frame action / background classifier (module docstring).

    Args:
        in_channels (int): feature size d.
        hidden_channels (int): GRU hidden size per direction (128).
        num_layers (int): GRU layers (2).
        input_dropout (float): dropout on the inputs (0.2).
        dropout (float): dropout in the per-frame head (0.5).
        data_preprocessor (dict): default mmaction2's ``ActionDataPreprocessor``.

    Modes: ``loss`` -> ``{'loss_frame'}`` (cross-entropy over the valid frames); ``predict`` -> the data samples
    with ``pred_frame_scores`` (length,) = P(action) averaged over the views; ``tensor`` -> logits (B, V, T, 2).
    """

    def __init__(self, in_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 input_dropout: float = 0.2, dropout: float = 0.5,
                 data_preprocessor: dict | nn.Module | None = None, init_cfg: dict | None = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ActionDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.encoder = SequenceBiGRU(in_channels, hidden_channels, num_layers, input_dropout)
        self.head = mlp_head(self.encoder.out_channels, self.encoder.out_channels, 2, dropout)

    def logits(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Args: inputs (B, V, T, d), lengths (B,). Returns logits (B, V, T, 2); padded steps are 0."""
        inputs = _check_inputs(inputs)
        batch, views, steps, dim = inputs.shape
        flat_lengths = lengths.to(inputs.device).repeat_interleave(views)
        out = self.encoder(inputs.reshape(batch * views, steps, dim), flat_lengths)
        valid = torch.arange(steps, device=inputs.device)[None, :] < flat_lengths[:, None]  # (BV, T)
        logits = out.new_zeros(batch * views, steps, 2)
        logits[valid] = self.head(out[valid])  # the head's BatchNorm sees valid steps only
        return logits.reshape(batch, views, steps, 2)

    def forward(self, inputs: torch.Tensor, data_samples: Sequence | None = None, mode: str = 'tensor'):
        lengths = sequence_lengths(inputs, data_samples)
        logits = self.logits(inputs, lengths)
        if mode == 'tensor':
            return logits
        batch, views, steps, _ = logits.shape
        if mode == 'loss':
            targets = logits.new_full((batch, steps), -100, dtype=torch.long)
            for i, sample in enumerate(data_samples):
                labels = sample.gt_frame_labels.to(logits.device)
                targets[i, :int(lengths[i])] = labels[:int(lengths[i])]
            targets = targets[:, None].expand(batch, views, steps)
            return dict(loss_frame=F.cross_entropy(logits.reshape(-1, 2), targets.reshape(-1), ignore_index=-100))
        if mode == 'predict':
            scores = logits.softmax(dim=-1)[..., 1].mean(dim=1)  # (B, T)
            for sample, score, length in zip(data_samples, scores, lengths):
                sample.pred_frame_scores = score[:int(length)].detach()
            return list(data_samples)
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    @torch.no_grad()
    def frame_scores(self, feats: np.ndarray | torch.Tensor) -> np.ndarray:
        """P(action) of every frame of one whole sequence, averaged over its views (eval mode).

        Args:
            feats (np.ndarray | Tensor): (T, V, d) features, e.g. (T, 2, d) original + mirrored.

        Returns:
            np.ndarray: (T,) float32.
        """
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        x = torch.as_tensor(np.asarray(feats), dtype=torch.float32, device=device).permute(1, 0, 2)[None]
        lengths = torch.tensor([x.shape[2]], dtype=torch.long)
        scores = self.logits(x, lengths).softmax(dim=-1)[0, :, :, 1].mean(dim=0)
        self.train(was_training)
        return scores.cpu().numpy().astype(np.float32)
