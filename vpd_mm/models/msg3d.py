"""MS-G3D (Liu, Zhang, Chen, Wang, Ouyang, CVPR 2020: "Disentangling and Unifying Graph Convolutions for
Skeleton-Based Action Recognition"), written from the paper's description for mmaction2's ``RecognizerGCN`` +
``GCNHead`` (mmaction2 keeps its MS-G3D only in the source tree's ``projects/``, not in the wheel).

Registered as ``MSG3DFromPaper``, not ``MSG3D``: mmaction2's ``projects/msg3d`` registers ``MSG3D`` in the same
registry (``mmaction.registry.MODELS``), so with both imported the second registration raised
``KeyError: 'MSG3D is already registered'``. The two are different networks (that project ports the authors' code:
G3D windows of 3 and 5 frames, column-normalised graphs ``A D^-1``, its own module names), so a checkpoint of one
does not load into the other; the VPD paper trains its MS-G3D baseline from scratch on each sport, which is what
this one is for.

Building blocks (V joints, T frames, features ``(N, C, T, V)``):

- **Disentangled multi-scale adjacency**: scale ``k`` links the joints exactly ``k`` hops apart on the skeleton
  (plus self-loops), ``A_k = D^-1/2 (B_k + I) D^-1/2`` with ``B_k[i, j] = [d(i, j) == k]``; each scale gets a
  learnable residual mask ``A_res`` initialised near zero (the paper's adaptive graph).
- **MS-GCN**: ``sigma(sum_k A_k X W_k)``: the K aggregations are stacked on the channel axis and mixed by one
  1x1 convolution (= the sum of K separate weights), then batch norm and ReLU.
- **G3D** (unified spatial-temporal graph): a sliding window of ``tau`` frames (dilation ``d``, stride ``s``)
  makes a ``tau*V``-node graph whose multi-scale adjacency tiles ``B_k + I`` over the ``tau x tau`` frame pairs,
  so every joint reaches its k-hop neighbours in every frame of the window directly; an MS-GCN runs on it and a
  convolution over the ``tau`` window positions collapses it back to ``V`` joints.
- **MS-TCN**: multi-scale temporal convolution: parallel branches (1x1 reduction then a 3x1 temporal convolution
  with dilation 1..4, a 3x1 max-pool branch and a plain 1x1 branch), concatenated, plus a residual.
- **STGC block**: a factorized pathway (MS-GCN -> MS-TCN -> MS-TCN) and G3D pathways (``tau = 3``, dilations
  1 and 2) summed, ReLU, then an MS-TCN. Three blocks with ``C, 2C, 4C`` channels (96/192/384) and temporal
  strides 1, 2, 2, so the output is ``(N, M, 4C, T/4, V)`` as mmaction2's ``GCNHead`` expects.

The skeleton comes from mmaction2's ``Graph`` (``graph_cfg=dict(layout='coco')`` for COCO-17, or a dict
layout); hop distances are computed with ``scipy.sparse.csgraph.shortest_path``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from scipy.sparse.csgraph import shortest_path
from torch import nn

__all__ = ['hop_distances', 'multiscale_adjacency', 'MultiScaleGCN', 'G3DPathway', 'MultiScaleTCN', 'STGCBlock',
           'MSG3DFromPaper']


def hop_distances(num_node: int, edges: Sequence[tuple[int, int]]) -> np.ndarray:
    """Shortest-path hop count between every pair of joints.

    Args:
        num_node (int): V.
        edges (Sequence[tuple[int, int]]): undirected skeleton edges ``(i, j)``.

    Returns:
        np.ndarray: (V, V) float64; ``inf`` between disconnected joints.
    """
    adjacency = np.zeros((num_node, num_node))
    for i, j in edges:
        adjacency[i, j] = adjacency[j, i] = 1
    return shortest_path(adjacency, method='D', directed=False, unweighted=True)


def multiscale_adjacency(hops: np.ndarray, num_scales: int, window: int = 1) -> np.ndarray:
    """Disentangled multi-scale adjacency, optionally tiled over a window of frames (G3D).

    Args:
        hops (np.ndarray): (V, V) hop distances.
        num_scales (int): K; scale k holds the pairs exactly k hops apart.
        window (int): tau; the (V, V) pattern is tiled tau x tau times (tau = 1: the spatial graph).

    Returns:
        np.ndarray: (K, tau*V, tau*V) float32, each ``D^-1/2 tile(B_k + I) D^-1/2`` (symmetric normalisation;
        the tiled self-loops link a joint to itself in every frame of the window).
    """
    num_node = hops.shape[0]
    size = window * num_node
    out = np.empty((num_scales, size, size), np.float32)
    self_loops = np.eye(num_node, dtype=bool)
    for k in range(num_scales):
        binary = np.tile(((hops == k) | self_loops).astype(np.float64), (window, window))
        degree = binary.sum(axis=1) ** -0.5
        out[k] = degree[:, None] * binary * degree[None, :]
    return out


class MultiScaleGCN(nn.Module):
    """MS-GCN: ``relu(bn(sum_k (A_k + A_res_k) X W_k))``.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        adjacency (np.ndarray): (K, V', V') normalised multi-scale adjacency.
        activation (bool): apply the final ReLU. Defaults to True.

    Shapes:
        ``(N, C_in, T, V')`` -> ``(N, C_out, T, V')``.
    """

    def __init__(self, in_channels: int, out_channels: int, adjacency: np.ndarray, activation: bool = True) -> None:
        super().__init__()
        num_scales = adjacency.shape[0]
        self.register_buffer('adjacency', torch.from_numpy(np.ascontiguousarray(adjacency, np.float32)))
        self.residual_mask = nn.Parameter(torch.empty_like(self.adjacency).uniform_(-1e-6, 1e-6))
        self.mix = nn.Conv2d(num_scales * in_channels, out_channels, kernel_size=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Aggregate the K neighbourhoods of every joint and mix them."""
        n, c, t, v = x.shape
        graph = self.adjacency + self.residual_mask  # (K, V', V')
        aggregated = torch.einsum('kvu,nctu->nkctv', graph, x).reshape(n, -1, t, v)
        out = self.bn(self.mix(aggregated))
        return F.relu(out) if self.activation else out


class G3DPathway(nn.Module):
    """One multi-scale G3D pathway: sliding windows of ``window`` frames as one ``window*V``-node graph.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        hops (np.ndarray): (V, V) hop distances of the skeleton.
        num_scales (int): K of the windowed graph.
        window (int): tau, frames per window. Defaults to 3.
        dilation (int): frame step inside a window. Defaults to 1.
        stride (int): temporal stride of the windows (output T' = ceil(T / stride)). Defaults to 1.

    Shapes:
        ``(N, C_in, T, V)`` -> ``(N, C_out, T', V)``.
    """

    def __init__(self, in_channels: int, out_channels: int, hops: np.ndarray, num_scales: int, window: int = 3,
                 dilation: int = 1, stride: int = 1) -> None:
        super().__init__()
        if window % 2 == 0:
            raise ValueError(f'G3D window must be odd (centred on its frame), got {window}')
        self.window, self.dilation, self.stride = window, dilation, stride
        self.span = (window - 1) * dilation + 1
        self.gcn = MultiScaleGCN(in_channels, out_channels, multiscale_adjacency(hops, num_scales, window))
        self.collapse = nn.Conv3d(out_channels, out_channels, kernel_size=(1, window, 1))
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Unfold windows, graph-convolve each window's ``tau*V`` nodes, collapse the window axis."""
        n, c, t, v = x.shape
        pad = (self.span - 1) // 2
        windows = F.pad(x, (0, 0, pad, pad)).unfold(2, self.span, self.stride)  # (N, C, T', V, span)
        windows = windows[..., ::self.dilation]  # (N, C, T', V, tau)
        t_out = windows.shape[2]
        nodes = windows.permute(0, 1, 2, 4, 3).reshape(n, c, t_out, self.window * v)  # frame-major nodes
        out = self.gcn(nodes).view(n, -1, t_out, self.window, v)
        return self.bn(self.collapse(out).squeeze(3))


class MultiScaleTCN(nn.Module):
    """MS-TCN: parallel temporal branches concatenated, plus a residual, then ReLU.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out, divisible by ``len(dilations) + 2``.
        stride (int): temporal stride. Defaults to 1.
        dilations (Sequence[int]): one 3x1 dilated-convolution branch per value. Defaults to (1, 2, 3, 4).
        dropout (float): dropout on the output. Defaults to 0.

    Shapes:
        ``(N, C_in, T, V)`` -> ``(N, C_out, ceil(T / stride), V)``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 dilations: Sequence[int] = (1, 2, 3, 4), dropout: float = 0.0) -> None:
        super().__init__()
        num_branches = len(dilations) + 2
        if out_channels % num_branches:
            raise ValueError(f'MS-TCN: out_channels {out_channels} must be divisible by {num_branches} branches')
        width = out_channels // num_branches

        def reduce() -> list[nn.Module]:
            return [nn.Conv2d(in_channels, width, 1), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]

        branches = [nn.Sequential(*reduce(), nn.Conv2d(width, width, (3, 1), stride=(stride, 1),
                                                       padding=(d, 0), dilation=(d, 1)), nn.BatchNorm2d(width))
                    for d in dilations]
        branches.append(nn.Sequential(*reduce(), nn.MaxPool2d((3, 1), stride=(stride, 1), padding=(1, 0)),
                                      nn.BatchNorm2d(width)))
        branches.append(nn.Sequential(nn.Conv2d(in_channels, width, 1, stride=(stride, 1)), nn.BatchNorm2d(width)))
        self.branches = nn.ModuleList(branches)
        if in_channels == out_channels and stride == 1:
            self.residual: nn.Module = nn.Identity()
        else:
            self.residual = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=(stride, 1)),
                                          nn.BatchNorm2d(out_channels))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Concatenate the branches, add the residual, ReLU."""
        out = torch.cat([branch(x) for branch in self.branches], dim=1)
        return self.dropout(F.relu(out + self.residual(x)))


class STGCBlock(nn.Module):
    """A spatial-temporal graph convolution block: factorized pathway + G3D pathways, summed, then an MS-TCN.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        hops (np.ndarray): (V, V) hop distances.
        num_gcn_scales (int): K of the factorized MS-GCN.
        num_g3d_scales (int): K of the G3D pathways.
        stride (int): temporal stride. Defaults to 1.
        window (int): G3D window tau. Defaults to 3.
        window_dilations (Sequence[int]): one G3D pathway per dilation. Defaults to (1, 2).
        tcn_dilations (Sequence[int]): MS-TCN branch dilations. Defaults to (1, 2, 3, 4).
        dropout (float): MS-TCN output dropout. Defaults to 0.

    Shapes:
        ``(N, C_in, T, V)`` -> ``(N, C_out, ceil(T / stride), V)``.
    """

    def __init__(self, in_channels: int, out_channels: int, hops: np.ndarray, num_gcn_scales: int,
                 num_g3d_scales: int, stride: int = 1, window: int = 3, window_dilations: Sequence[int] = (1, 2),
                 tcn_dilations: Sequence[int] = (1, 2, 3, 4), dropout: float = 0.0) -> None:
        super().__init__()
        self.factorized = nn.Sequential(
            MultiScaleGCN(in_channels, out_channels, multiscale_adjacency(hops, num_gcn_scales)),
            MultiScaleTCN(out_channels, out_channels, stride, tcn_dilations),
            MultiScaleTCN(out_channels, out_channels, 1, tcn_dilations))
        self.g3d = nn.ModuleList(
            G3DPathway(in_channels, out_channels, hops, num_g3d_scales, window, d, stride) for d in window_dilations)
        self.tcn = MultiScaleTCN(out_channels, out_channels, 1, tcn_dilations, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Sum the pathways, ReLU, temporal convolution."""
        out = self.factorized(x)
        for pathway in self.g3d:
            out = out + pathway(x)
        return self.tcn(F.relu(out))


@MODELS.register_module()
class MSG3DFromPaper(BaseModule):
    """MS-G3D backbone for mmaction2's ``RecognizerGCN`` (output feeds ``GCNHead(in_channels=4*base_channels)``).

    Args:
        graph_cfg (dict): mmaction2 ``Graph`` arguments, e.g. ``dict(layout='coco', mode='binary_adj')``; only the
            skeleton (``num_node``, ``inward``) is used.
        in_channels (int): C per joint (3 for x, y, score). Defaults to 3.
        base_channels (int): channels of the first block (then x2, x4). Divisible by
            ``len(tcn_dilations) + 2``. Defaults to 96.
        num_gcn_scales (int, optional): K of the factorized MS-GCNs; None: every hop distance of the skeleton
            (diameter + 1: 9 for COCO-17, 13 for NTU's 25 joints). Defaults to None.
        num_g3d_scales (int): K of the G3D pathways. Defaults to 6.
        num_person (int): M, persons per sample (for the input batch norm). Defaults to 2.
        window (int): G3D window tau. Defaults to 3.
        window_dilations (Sequence[int]): G3D pathways' dilations. Defaults to (1, 2).
        tcn_dilations (Sequence[int]): MS-TCN branch dilations. Defaults to (1, 2, 3, 4).
        strides (Sequence[int]): temporal stride of each block. Defaults to (1, 2, 2).
        tcn_dropout (float): dropout at the end of each block. Defaults to 0.
        init_cfg (dict, optional): mmengine init config.

    Shapes:
        input ``(N, M, T, V, C)`` -> output ``(N, M, 4 * base_channels, T', V)`` with ``T' = ceil(ceil(T/2)/2)``.
    """

    def __init__(self, graph_cfg: dict, in_channels: int = 3, base_channels: int = 96,
                 num_gcn_scales: int | None = None, num_g3d_scales: int = 6, num_person: int = 2, window: int = 3,
                 window_dilations: Sequence[int] = (1, 2), tcn_dilations: Sequence[int] = (1, 2, 3, 4),
                 strides: Sequence[int] = (1, 2, 2), tcn_dropout: float = 0.0, init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        graph = Graph(**graph_cfg)
        hops = hop_distances(graph.num_node, graph.inward)
        if num_gcn_scales is None:
            num_gcn_scales = int(hops[np.isfinite(hops)].max()) + 1
        self.num_node = graph.num_node
        self.in_channels = in_channels
        self.num_person = num_person
        self.data_bn = nn.BatchNorm1d(num_person * in_channels * graph.num_node)
        channels = [in_channels] + [base_channels * 2 ** i for i in range(len(strides))]
        self.blocks = nn.ModuleList(
            STGCBlock(channels[i], channels[i + 1], hops, num_gcn_scales, num_g3d_scales, stride, window,
                      window_dilations, tcn_dilations, tcn_dropout) for i, stride in enumerate(strides))
        self.out_channels = channels[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, M, T, V, C)`` joints -> ``(N, M, C_out, T', V)`` features."""
        n, m, t, v, c = x.shape
        if (m, v, c) != (self.num_person, self.num_node, self.in_channels):
            raise ValueError(f'MSG3DFromPaper expects (N, {self.num_person}, T, {self.num_node}, {self.in_channels}) '
                             f'input, got {tuple(x.shape)}')
        x = x.permute(0, 1, 3, 4, 2).reshape(n, m * v * c, t)
        x = self.data_bn(x).view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for block in self.blocks:
            x = block(x)
        return x.reshape(n, m, *x.shape[1:])
