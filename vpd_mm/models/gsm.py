"""Gate-Shift Module (GSM; Sudhakaran, Escalera, Lanz, CVPR 2020) and ``ResNetGSM``, a ResNet with one GSM per
residual block. Not in OpenMMLab; written from the paper's description.

A GSM turns a 2D CNN that sees the segments of a clip one by one (TSN-style ``(N*T, C, H, W)`` batches) into a
spatio-temporal one. On the feature map ``X`` of the ``T`` segments of a clip, viewed as ``(N, C, T, H, W)``:

1. a gate ``G = tanh(conv3d_{3x3x3, groups=2}(relu(bn3d(X))))`` with two output maps, one per channel half;
2. for each half, the gated part ``G * X`` is shifted by one segment in time (first half: segment ``t`` receives
   the gated features of ``t + 1``; second half: of ``t - 1``; zeros enter at the ends) and added to the ungated
   residual ``X - G * X``.

The gate convolution starts at zero weights and bias, so ``G = 0`` and the module is exactly the identity at
initialisation: it can be inserted into an ImageNet-pretrained network without changing it.

Differences from the authors' code (on purpose):

- device-agnostic: the zero padding of the shift is made with ``torch.nn.functional.pad`` on the input's device
  (the original allocates it with ``torch.cuda.FloatTensor``, so it only runs on a GPU);
- no channel interleaving after the shift: the original permutes channels within each half after the shift, so
  even with zero gates its output is a channel permutation of its input, not the input; we keep the identity
  (the permutation adds nothing a following 1x1 convolution cannot learn);
- placed in a ResNet: after the first convolution of every residual block, before its batch norm (the authors
  place it after a 1x1 convolution of each BN-Inception / Inception-v3 block, before its batch norm).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from mmaction.registry import MODELS

from .resnet_weights import LocalPretrainedResNet

__all__ = ['GateShift', 'GSMConv2d', 'ResNetGSM']


class GateShift(nn.Module):
    """The Gate-Shift Module on a TSN batch.

    Args:
        channels (int): C, the number of feature channels (even).
        num_segments (int): T, segments per clip; the batch is ``N * T`` frames, clip-major.

    Shapes:
        input ``(N*T, C, H, W)`` -> output ``(N*T, C, H, W)``.
    """

    def __init__(self, channels: int, num_segments: int) -> None:
        super().__init__()
        if channels % 2:
            raise ValueError(f'GateShift needs an even number of channels, got {channels}')
        if num_segments < 1:
            raise ValueError(f'num_segments must be >= 1, got {num_segments}')
        self.channels = channels
        self.num_segments = num_segments
        self.bn = nn.BatchNorm3d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.gate = nn.Conv3d(channels, 2, kernel_size=3, padding=1, groups=2)
        self.reset_gates()

    def reset_gates(self) -> None:
        """Zero the gate convolution: the module becomes the identity."""
        nn.init.zeros_(self.gate.weight)
        nn.init.zeros_(self.gate.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gate and shift ``x`` ``(N*T, C, H, W)``; returns the same shape."""
        nt, c, h, w = x.shape
        t = self.num_segments
        if nt % t:
            raise ValueError(f'GateShift: batch of {nt} frames is not a multiple of num_segments={t}')
        clip = x.view(nt // t, t, c, h, w).transpose(1, 2)  # (N, C, T, H, W)
        gates = torch.tanh(self.gate(self.relu(self.bn(clip))))  # (N, 2, T, H, W)
        half = c // 2
        first, second = clip[:, :half], clip[:, half:]
        gated_first = gates[:, :1] * first
        gated_second = gates[:, 1:] * second
        # shift along T (dim 2): F.pad's last pair of numbers pads dim 2
        from_next = F.pad(gated_first[:, :, 1:], (0, 0, 0, 0, 0, 1))
        from_prev = F.pad(gated_second[:, :, :-1], (0, 0, 0, 0, 1, 0))
        out = torch.cat([first - gated_first + from_next, second - gated_second + from_prev], dim=1)
        return out.transpose(1, 2).reshape(nt, c, h, w)


class GSMConv2d(nn.Conv2d):
    """A ``Conv2d`` followed by a :class:`GateShift` on its output (same weights names as the convolution, so
    torchvision ImageNet weights still load into it).

    Args:
        num_segments (int): T, segments per clip.
        *args, **kwargs: ``nn.Conv2d`` arguments.
    """

    def __init__(self, *args, num_segments: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gsm = GateShift(self.out_channels, num_segments)

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, num_segments: int) -> 'GSMConv2d':
        """A GSMConv2d with ``conv``'s hyper-parameters and a copy of its weights."""
        new = cls(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                  padding=conv.padding, dilation=conv.dilation, groups=conv.groups, bias=conv.bias is not None,
                  padding_mode=conv.padding_mode, num_segments=num_segments)
        new.weight.data.copy_(conv.weight.data)
        if conv.bias is not None:
            new.bias.data.copy_(conv.bias.data)
        return new.to(conv.weight.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N*T, C_in, H, W)`` -> ``(N*T, C_out, H', W')``."""
        return self.gsm(super().forward(x))


@MODELS.register_module()
class ResNetGSM(LocalPretrainedResNet):
    """ResNet (mmaction2's, ImageNet weights from a local file) with a Gate-Shift Module in every residual block.

    Use it like mmaction2's ``ResNetTSM`` in a ``Recognizer2D`` with a ``TSNHead``: the input is the
    ``(N*T, 3, H, W)`` frames of ``N`` clips of ``T = num_segments`` segments each; the output
    ``(N*T, 2048, H/32, W/32)`` (depth 50).

    Args:
        num_segments (int): T, segments per clip (the pipeline's ``SampleFrames.num_clips``). Defaults to 8.
        **kwargs: :class:`LocalPretrainedResNet` / mmaction2 ``ResNet`` arguments (``depth``, ``pretrained``,
            ``norm_eval``, ``partial_bn``, ...).
    """

    def __init__(self, num_segments: int = 8, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_segments = num_segments
        for layer_name in self.res_layers:
            for block in getattr(self, layer_name):
                block.conv1.conv = GSMConv2d.from_conv(block.conv1.conv, num_segments)

    def gate_shift_modules(self) -> list[GateShift]:
        """Every GSM of the network, in order."""
        return [m for m in self.modules() if isinstance(m, GateShift)]
