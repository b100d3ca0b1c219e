"""``BiGRURecognizer``: action recognition from a sequence of per-frame pose features (paper section 4.1).

Reference (``spec/reference_vpd.md`` section 6.3): input dropout 0.2 on the features, a bidirectional GRU (hidden
128, 2 layers, no inter-layer dropout) over the valid steps only (packed sequences), max-pooling of the 256-d
outputs over the valid steps, then BN1d - Dropout(0.5) - Linear(256, 256) - ReLU - BN1d - Dropout(0.5) -
Linear(256, C). Training: cross-entropy, every mirrored sequence is an extra sample; testing: the softmax of the
original and the mirrored sequence are averaged.

Inputs follow :class:`vpd_mm.datasets.PackSequenceInputs`: ``(B, V, T, d)`` after mmaction2's
``ActionDataPreprocessor`` (views V = 1 for a training sample, 2 for a test sample; time padded with zeros) and
the true length of each sequence in ``data_sample.metainfo['length']``.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from mmaction.registry import MODELS

__all__ = ['SequenceBiGRU', 'mlp_head', 'sequence_lengths', 'BiGRURecognizer']


def mlp_head(in_channels: int, hidden_channels: int, out_channels: int, dropout: float = 0.5) -> nn.Sequential:
    """BN1d - Dropout - Linear - ReLU - BN1d - Dropout - Linear, on ``(N, in_channels)``."""
    return nn.Sequential(
        nn.BatchNorm1d(in_channels), nn.Dropout(dropout), nn.Linear(in_channels, hidden_channels), nn.ReLU(),
        nn.BatchNorm1d(hidden_channels), nn.Dropout(dropout), nn.Linear(hidden_channels, out_channels))


class SequenceBiGRU(nn.Module):
    """Input dropout, then a bidirectional GRU run on the valid steps of each sequence only.

    Args:
        in_channels (int): feature size d.
        hidden_channels (int): GRU hidden size per direction (output is twice this).
        num_layers (int): stacked GRU layers.
        input_dropout (float): dropout on the input features.
    """

    def __init__(self, in_channels: int, hidden_channels: int = 128, num_layers: int = 2,
                 input_dropout: float = 0.2) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = 2 * hidden_channels
        self.dropout = nn.Dropout(input_dropout)
        self.gru = nn.GRU(in_channels, hidden_channels, num_layers=num_layers, batch_first=True,
                          bidirectional=True)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, padding_value: float = 0.0) -> torch.Tensor:
        """Args: x (N, T, d), lengths (N,) in [1, T]. Returns (N, T, 2h); steps past a length hold
        ``padding_value``."""
        if x.shape[-1] != self.in_channels:
            raise ValueError(f'the model expects {self.in_channels}-d features, the inputs have {x.shape[-1]} '
                             '(set model.in_channels to the feature size)')
        packed = pack_padded_sequence(self.dropout(x), lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, padding_value=padding_value, total_length=x.shape[1])
        return out


def sequence_lengths(inputs: torch.Tensor, data_samples: Sequence | None) -> torch.Tensor:
    """(B,) lengths from ``data_sample.metainfo['length']`` (all ``T`` without data samples)."""
    total = inputs.shape[-2]
    if not data_samples:
        return torch.full((inputs.shape[0],), total, dtype=torch.long)
    lengths = torch.tensor([int(s.metainfo.get('length', total)) for s in data_samples], dtype=torch.long)
    if (lengths < 1).any() or (lengths > total).any():
        raise ValueError(f'sequence lengths {lengths.tolist()} outside [1, {total}]')
    return lengths


def _check_inputs(inputs: torch.Tensor) -> torch.Tensor:
    if inputs.dim() == 3:  # (B, T, d): one view
        inputs = inputs.unsqueeze(1)
    if inputs.dim() != 4:
        raise ValueError(f'expected inputs (B, V, T, d), got shape {tuple(inputs.shape)}')
    return inputs


@MODELS.register_module()
class BiGRURecognizer(BaseModel):
    """Classify a pose-feature sequence with a BiGRU and masked max-pooling (module docstring).

    Args:
        in_channels (int): feature size d (26 for 2D joints, 64 for VIPE*, 128 for VIPE* with inversion).
        num_classes (int): number of classes C.
        hidden_channels (int): GRU hidden size per direction (128).
        num_layers (int): GRU layers (2).
        input_dropout (float): dropout on the inputs (0.2).
        dropout (float): dropout in the head (0.5).
        data_preprocessor (dict): default mmaction2's ``ActionDataPreprocessor`` (stacks, pads time with 0).

    Modes: ``loss`` -> ``{'loss_cls'}`` (each view of each sample is one training sequence); ``predict`` -> the
    data samples with ``pred_score`` (C,) = softmax averaged over the views and ``pred_label``; ``tensor`` ->
    logits (B, V, C).
    """

    def __init__(self, in_channels: int, num_classes: int, hidden_channels: int = 128, num_layers: int = 2,
                 input_dropout: float = 0.2, dropout: float = 0.5,
                 data_preprocessor: dict | nn.Module | None = None, init_cfg: dict | None = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ActionDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.num_classes = num_classes
        self.encoder = SequenceBiGRU(in_channels, hidden_channels, num_layers, input_dropout)
        self.head = mlp_head(self.encoder.out_channels, self.encoder.out_channels, num_classes, dropout)

    def logits(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Args: inputs (B, V, T, d), lengths (B,). Returns logits (B, V, C)."""
        inputs = _check_inputs(inputs)
        batch, views, steps, dim = inputs.shape
        flat = inputs.reshape(batch * views, steps, dim)
        flat_lengths = lengths.to(inputs.device).repeat_interleave(views)
        out = self.encoder(flat, flat_lengths, padding_value=float('-inf'))
        pooled = out.max(dim=1).values  # max over the valid steps only (padding is -inf)
        return self.head(pooled).reshape(batch, views, self.num_classes)

    def forward(self, inputs: torch.Tensor, data_samples: Sequence | None = None, mode: str = 'tensor'):
        lengths = sequence_lengths(inputs, data_samples)
        logits = self.logits(inputs, lengths)
        if mode == 'tensor':
            return logits
        if mode == 'loss':
            labels = torch.cat([s.gt_label for s in data_samples]).to(logits.device)
            if (labels >= self.num_classes).any() or (labels < 0).any():
                raise ValueError(f'labels {labels.tolist()} outside [0, {self.num_classes}) '
                                 '(set model.num_classes to the number of classes)')
            views = logits.shape[1]
            return dict(loss_cls=F.cross_entropy(logits.reshape(-1, self.num_classes),
                                                 labels.repeat_interleave(views)))
        if mode == 'predict':
            scores = logits.softmax(dim=-1).mean(dim=1)
            for sample, score in zip(data_samples, scores):
                sample.set_pred_score(score.detach())
                sample.set_pred_label(score.argmax().detach())
            return list(data_samples)
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")
