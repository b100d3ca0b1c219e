"""VIPE*: a view-invariant embedding of 2D poses (reference ``spec/reference_vpd.md`` sections 2.1 and 2.4).

Encoder: ``Linear(39 -> 1024) -> ReLU -> 2 x FcResidualBlock -> Linear(1024 -> 64)``; a 3D decoder
(``Linear(64 -> 512) -> ReLU -> Linear(512 -> 512) -> ReLU -> Linear(512 -> 42)``) is used only for the training
loss. Embeddings are not normalised (Euclidean space).

**Fixed reference bug** (``reference_vpd.md`` 10.3, bug 3): the reference residual block returns
``block(x) - x``. Ours is a standard residual, ``x + block(x)``, so reference weights cannot be reused as is
(their blocks would need negating the skip path).
"""
from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np
import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModel
from torch import nn

from .pose3d import DESCRIPTOR_DIM
from .vipe_input import VIPE_INPUT_DIM

__all__ = ['FcResidualBlock', 'FCResNet', 'FCPoseDecoder', 'VIPEEmbedder', 'vipe_loss']


class FcResidualBlock(nn.Module):
    """``x + [Linear -> BN -> ReLU -> Dropout -> Linear -> BN -> ReLU -> Dropout](x)``.

    Args:
        dim (int): width.
        dropout (float): dropout probability.
    """

    def __init__(self, dim: int, dropout: float) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.ReLU(inplace=True), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, dim) -> (N, dim)."""
        return x + self.block(x)


class FCResNet(nn.Module):
    """Fully connected residual network: ``Linear -> ReLU -> blocks -> Linear``.

    Args:
        in_dim (int): input size.
        out_dim (int): output size.
        num_blocks (int): residual blocks. Defaults to 2.
        hidden (int): width. Defaults to 1024.
        dropout (float): dropout inside the blocks. Defaults to 0.2.
    """

    def __init__(self, in_dim: int, out_dim: int, num_blocks: int = 2, hidden: int = 1024,
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(*[FcResidualBlock(hidden, dropout) for _ in range(num_blocks)])
        self.head = nn.Linear(hidden, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_dim) -> (N, out_dim)."""
        return self.head(self.blocks(self.stem(x)))


class FCPoseDecoder(nn.Module):
    """3D-pose regression head: ``Linear -> ReLU`` x ``num_layers``, then ``Linear`` to the target.

    Args:
        in_dim (int): embedding size.
        out_dim (int): target size.
        hidden (int): width. Defaults to 512.
        num_layers (int): hidden layers. Defaults to 2.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 512, num_layers: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(num_layers):
            layers += [nn.Linear(in_dim if i == 0 else hidden, hidden), nn.ReLU(inplace=True)]
        layers.append(nn.Linear(hidden if num_layers else in_dim, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_dim) -> (N, out_dim)."""
        return self.net(x)


def _distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # the epsilon keeps the gradient finite when a == b (it changes the distance by at most 1e-6)
    return torch.sqrt(((a - b) ** 2).sum(-1) + 1e-12)


def vipe_loss(e1: torch.Tensor, e2: torch.Tensor, en: torch.Tensor, neg_valid: torch.Tensor,
              pred1: torch.Tensor, pred2: torch.Tensor, target: torch.Tensor, margin: float = 1.0,
              weight_3d: float = 1.0) -> dict[str, torch.Tensor]:
    """VIPE* loss: contrastive distances plus 3D regression, summed over the batch and divided by its size.

    ``loss_pos = sum ||e1 - e2|| / N``; ``loss_neg = sum valid * max(0, margin - ||e1 - en||) / N``;
    ``loss_3d = weight * sum (||pred1 - t||^2 + ||pred2 - t||^2) / N``.

    Args:
        e1 (torch.Tensor): (N, d) anchor embeddings.
        e2 (torch.Tensor): (N, d) positive embeddings (another view of the same 3D frame).
        en (torch.Tensor): (N, d) negative embeddings (rows with ``neg_valid == 0`` are ignored).
        neg_valid (torch.Tensor): (N,) 1 where a negative was found.
        pred1 (torch.Tensor): (N, k) 3D prediction from ``e1``.
        pred2 (torch.Tensor): (N, k) 3D prediction from ``e2``.
        target (torch.Tensor): (N, k) 3D target.
        margin (float): contrastive margin. Defaults to 1.
        weight_3d (float): weight of the 3D term. Defaults to 1.

    Returns:
        dict[str, torch.Tensor]: ``loss_pos``, ``loss_neg``, ``loss_3d`` (scalars).
    """
    n = e1.shape[0]
    neg_valid = neg_valid.to(e1.dtype)
    loss_pos = _distance(e1, e2).sum() / n
    loss_neg = (neg_valid * torch.clamp(margin - _distance(e1, en), min=0)).sum() / n
    loss_3d = weight_3d * (((pred1 - target) ** 2).sum() + ((pred2 - target) ** 2).sum()) / n
    return dict(loss_pos=loss_pos, loss_neg=loss_neg, loss_3d=loss_3d)


@MODELS.register_module()
class VIPEEmbedder(BaseModel):
    """VIPE* view-invariant 2D-pose embedder, trained by ``tools/train.py configs/vipe/*``.

    ``forward`` modes:

    - ``'tensor'``: ``inputs`` (N, 39) -> embeddings (N, d);
    - ``'loss'``: ``inputs`` (N, 3, 39) = [anchor view, positive view, negative], ``data_samples`` a dict with
      ``target3d`` (N, 42) and ``neg_valid`` (N,) -> ``loss_pos``, ``loss_neg``, ``loss_3d``;
    - ``'predict'``: ``inputs`` (N, V, 39) -> one dict per sample with ``emb`` (V, d) and every field of
      ``data_samples`` for that sample (used by :class:`~vpd_mm.teachers.vipe_metric.ViewRetrievalMetric`).

    Args:
        in_dim (int): input size (39: 13 joints x (x, y, confidence - 0.5)).
        embed_dim (int): embedding size d. Defaults to 64 (the paper; the reference code's default is 32).
        num_blocks (int): residual blocks. Defaults to 2.
        hidden (int): encoder width. Defaults to 1024.
        dropout (float): encoder dropout. Defaults to 0.2.
        decoder_hidden (int): 3D decoder width. Defaults to 512.
        decoder_layers (int): 3D decoder hidden layers. Defaults to 2.
        target_dim (int): 3D target size. Defaults to 42 (:func:`~vpd_mm.teachers.pose3d.pose3d_descriptor`).
        margin (float): contrastive margin. Defaults to 1.
        loss_3d_weight (float): weight of the 3D term. Defaults to 1.
        data_preprocessor (dict, optional): defaults to mmengine's ``BaseDataPreprocessor`` (moves to device).
        init_cfg (dict, optional): initialisation config.
    """

    def __init__(self, in_dim: int = VIPE_INPUT_DIM, embed_dim: int = 64, num_blocks: int = 2, hidden: int = 1024,
                 dropout: float = 0.2, decoder_hidden: int = 512, decoder_layers: int = 2,
                 target_dim: int = DESCRIPTOR_DIM, margin: float = 1.0, loss_3d_weight: float = 1.0,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.in_dim = in_dim
        self.embed_dim = embed_dim
        self.margin = margin
        self.loss_3d_weight = loss_3d_weight
        self.encoder = FCResNet(in_dim, embed_dim, num_blocks=num_blocks, hidden=hidden, dropout=dropout)
        self.decoder = FCPoseDecoder(embed_dim, target_dim, hidden=decoder_hidden, num_layers=decoder_layers)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Embeddings of VIPE* inputs: (..., 39) -> (..., d)."""
        shape = x.shape[:-1]
        return self.encoder(x.reshape(-1, x.shape[-1])).reshape(*shape, self.embed_dim)

    @torch.no_grad()
    def embed_numpy(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Embed an array in eval mode on the model's device.

        Args:
            x (np.ndarray): (N, 39) inputs, all finite.
            batch_size (int): rows per forward pass. Defaults to 4096.

        Returns:
            np.ndarray: (N, d) float32 embeddings.
        """
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        out = np.empty((len(x), self.embed_dim), dtype=np.float32)
        for start in range(0, len(x), batch_size):
            chunk = torch.as_tensor(np.ascontiguousarray(x[start:start + batch_size]), dtype=torch.float32)
            out[start:start + len(chunk)] = self.encoder(chunk.to(device)).cpu().numpy()
        self.train(was_training)
        return out

    def forward(self, inputs: torch.Tensor, data_samples: Optional[dict] = None,
                mode: str = 'tensor') -> Union[torch.Tensor, dict, list]:
        """See the class docstring for the three modes."""
        if mode == 'tensor':
            return self.embed(inputs)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f'VIPEEmbedder: unknown mode {mode!r}')

    def loss(self, inputs: torch.Tensor, data_samples: dict) -> dict[str, torch.Tensor]:
        """Loss of a batch of (anchor, positive, negative) triples.

        Args:
            inputs (torch.Tensor): (N, 3, 39).
            data_samples (dict): ``target3d`` (N, 42) and ``neg_valid`` (N,).

        Returns:
            dict[str, torch.Tensor]: see :func:`vipe_loss`.
        """
        if inputs.ndim != 3 or inputs.shape[1] != 3:
            raise ValueError(f'VIPEEmbedder.loss: inputs must be (N, 3, {self.in_dim}), got {tuple(inputs.shape)}')
        n = inputs.shape[0]
        valid = data_samples['neg_valid'].to(inputs.device).bool()
        # one pass (shared BN statistics) over anchors, positives and the negatives that exist
        stacked = torch.cat([inputs[:, 0], inputs[:, 1], inputs[valid, 2]], dim=0)
        emb = self.encoder(stacked)
        e1, e2 = emb[:n], emb[n:2 * n]
        en = torch.zeros_like(e1)
        en[valid] = emb[2 * n:]
        target = data_samples['target3d'].to(inputs.device, inputs.dtype)
        return vipe_loss(e1, e2, en, valid, self.decoder(e1), self.decoder(e2), target, margin=self.margin,
                         weight_3d=self.loss_3d_weight)

    def predict(self, inputs: torch.Tensor, data_samples: Optional[dict] = None) -> list[dict[str, Any]]:
        """Embeddings of several views per sample.

        Args:
            inputs (torch.Tensor): (N, V, 39).
            data_samples (dict, optional): batched per-sample fields, copied into the outputs.

        Returns:
            list[dict]: per sample, ``emb`` (V, d) numpy and the sample's own fields (numpy).
        """
        emb = self.embed(inputs).detach().cpu().numpy()
        outputs = []
        for i in range(len(emb)):
            item: dict[str, Any] = dict(emb=emb[i])
            for key, value in (data_samples or {}).items():
                item[key] = value[i].detach().cpu().numpy() if torch.is_tensor(value) else value[i]
            outputs.append(item)
        return outputs
