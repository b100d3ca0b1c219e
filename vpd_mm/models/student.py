"""The VPD student F: a torchvision ResNet on 128x128 athlete crops (RGB + 2 flow channels), output d = teacher dim.

Reference (``models/rgb.py:RGBF_EmbeddingModel``, spec section 3.1): torchvision ``resnet34`` without ImageNet
weights by default; with flow, ``conv1`` becomes a 5-input-channel convolution whose kernel is the 3-channel kernel
averaged over its input channels and copied to all 5 (done for random init too, so the 5 channels start equal);
``fc`` becomes ``Linear(512 * expansion, d)`` and its output is the descriptor F(x) (no normalisation).
"""
from __future__ import annotations

import os.path as osp

import torch
import torchvision
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import nn

__all__ = ['VPDStudent', 'widen_first_conv']

ARCHS = ('resnet18', 'resnet34', 'resnet50')


def widen_first_conv(conv: nn.Conv2d, in_channels: int) -> nn.Conv2d:
    """A copy of ``conv`` with ``in_channels`` inputs: its kernel averaged over the inputs and repeated.

    Args:
        conv (nn.Conv2d): the original convolution, weight (C_out, C_in, k, k).
        in_channels (int): new number of input channels.

    Returns:
        nn.Conv2d: weight (C_out, in_channels, k, k), every input slice equal to the mean over the C_in slices.
    """
    new = nn.Conv2d(in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                    conv.dilation, conv.groups, bias=conv.bias is not None)
    with torch.no_grad():
        mean = conv.weight.mean(dim=1, keepdim=True)
        new.weight.copy_(mean.expand(-1, in_channels, -1, -1))
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new


@MODELS.register_module()
class VPDStudent(BaseModule):
    """The student feature extractor F: (N, C, 128, 128) crops -> (N, d) pose descriptors.

    Args:
        out_dim (int): descriptor dimension d, equal to the teacher's (26 for 2D joints, 64 VIPE*, 128 for the
            Diving48 VIPE*).
        arch (str): ``'resnet18'``, ``'resnet34'`` (default, the paper's) or ``'resnet50'`` (torchvision).
        in_channels (int): 5 for RGB + flow (default), 3 for the RGB-only ablation.
        pretrained (str, optional): path of a torchvision ImageNet state dict for ``arch`` (e.g.
            ``resnet34-b627a593.pth``), loaded with ``weights_only=True`` before ``conv1`` is widened and ``fc``
            replaced. Default None: random initialisation (the reference's default).
        init_cfg (dict, optional): mmengine init config.

    Example:
        >>> net = VPDStudent(out_dim=26, arch='resnet18')
        >>> net(torch.zeros(2, 5, 128, 128)).shape
        torch.Size([2, 26])
    """

    def __init__(self, out_dim: int, arch: str = 'resnet34', in_channels: int = 5, pretrained: str | None = None,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        if arch not in ARCHS:
            raise ValueError(f'arch must be one of {ARCHS}, got {arch!r}')
        if in_channels not in (3, 5):
            raise ValueError(f'in_channels must be 3 (RGB) or 5 (RGB + flow), got {in_channels}')
        if out_dim < 1:
            raise ValueError(f'out_dim must be positive, got {out_dim}')
        self.arch, self.in_channels, self.out_dim = arch, in_channels, out_dim
        net = getattr(torchvision.models, arch)(weights=None)
        if pretrained is not None:
            net.load_state_dict(self._read_weights(pretrained))
        if in_channels != 3:
            net.conv1 = widen_first_conv(net.conv1, in_channels)
        net.fc = nn.Linear(net.fc.in_features, out_dim)
        self.net = net

    @staticmethod
    def _read_weights(path: str) -> dict[str, torch.Tensor]:
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path}: ImageNet weights file does not exist')
        try:
            state = torch.load(path, map_location='cpu', weights_only=True)
        except Exception as error:  # noqa: BLE001  (pickle/zip errors of many kinds)
            raise ValueError(f'{path}: not a readable torch state dict ({error})') from None
        if isinstance(state, dict) and 'state_dict' in state:
            state = state['state_dict']
        if not isinstance(state, dict):
            raise ValueError(f'{path}: expected a state dict, got {type(state).__name__}')
        return state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute F(x).

        Args:
            x (torch.Tensor): (N, in_channels, H, W) normalised crops (128 x 128 in VPD).

        Returns:
            torch.Tensor: (N, out_dim) descriptors.
        """
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'expected input (N, {self.in_channels}, H, W), got {tuple(x.shape)}')
        return self.net(x)
