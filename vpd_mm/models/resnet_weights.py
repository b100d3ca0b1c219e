"""``LocalPretrainedResNet``: mmaction2's ResNet whose ImageNet weights are a local file, optional.

mmaction2's ``ResNet(pretrained=...)`` downloads its weights from a URL and fails when it cannot. The baselines
(TSN, TRN, GSM) take the ImageNet weights as a *file* instead (a torchvision ``resnet50`` state dict, e.g.
``resnet50-11ad3fa6.pth``); when the file is not there the model trains from scratch and says so in the log with
one warning line, so every config builds and trains on any machine.

With ``in_channels != 3`` (the optical-flow stream: 2 x clip_len channels) the first convolution is initialised
by TSN's cross-modality rule: the ImageNet RGB filters averaged over their 3 input channels and replicated over
the new ones (Wang et al., ECCV 2016, section 3.2). mmaction2 leaves that layer at random initialisation.
"""
from __future__ import annotations

import os.path as osp

import torch
from mmaction.models.backbones.resnet import ResNet
from mmaction.registry import MODELS
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import _load_checkpoint

__all__ = ['LocalPretrainedResNet']


@MODELS.register_module()
class LocalPretrainedResNet(ResNet):
    """mmaction2's :class:`ResNet` (same arguments) with ``pretrained`` a local file, or None.

    Input ``(N, in_channels, H, W)``, output ``(N, 2048, H/32, W/32)`` for depth 50 (as mmaction2's ResNet).

    Args:
        pretrained (str, optional): path of a torchvision ResNet state dict (``conv1.weight``, ``bn1.*``,
            ``layer1.0.conv1.weight``, ...). None or a missing file: train from scratch (a warning is logged).
            A URL (``...://...``) is passed on to mmaction2, which downloads it.
        **kwargs: every other argument of mmaction2's ``ResNet``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.weights_loaded = False

    def init_weights(self) -> None:
        """Load the ImageNet file when it exists, otherwise initialise from scratch with a warning."""
        logger = MMLogger.get_current_instance()
        path = self.pretrained
        if isinstance(path, str) and '://' in path:
            super().init_weights()
            self.weights_loaded = True
            return
        if path is None or not osp.isfile(path):
            what = 'none given' if path is None else f'{path} does not exist'
            logger.warning(f'{type(self).__name__}: no ImageNet weights ({what}); training from scratch')
            self.pretrained = None
            super().init_weights()
            self.pretrained = path
            return
        super().init_weights()  # mmaction2's torchvision-layout loader: conv + bn of every ConvModule
        if self.in_channels != 3 and self.torchvision_pretrain:
            self._cross_modality_conv1(path)
        self.weights_loaded = True
        logger.info(f'{type(self).__name__}: ImageNet weights loaded from {path}')

    def _cross_modality_conv1(self, path: str) -> None:
        state = _load_checkpoint(path, map_location='cpu')
        state = state.get('state_dict', state)
        rgb = state.get('conv1.weight')
        if rgb is None or rgb.dim() != 4 or rgb.shape[1] != 3:
            raise ValueError(f'{path}: conv1.weight: expected (64, 3, k, k) ImageNet RGB filters')
        weight = self.conv1.conv.weight
        with torch.no_grad():
            mean = rgb.mean(dim=1, keepdim=True).to(weight)
            weight.copy_(mean.expand(-1, self.in_channels, -1, -1))
