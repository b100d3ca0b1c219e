"""LocalPretrainedResNet: ImageNet weights from a local torchvision file, cross-modality init, from scratch."""
from __future__ import annotations

import logging

import pytest
import torch
import torchvision
import vpd_mm  # noqa: F401  (stack fixes, registration)
from mmengine.logging import MMLogger

from vpd_mm.models.resnet_weights import LocalPretrainedResNet


@pytest.fixture(scope='module')
def torchvision_r18(tmp_path_factory):
    torch.manual_seed(0)
    state = torchvision.models.resnet18(weights=None).state_dict()
    path = tmp_path_factory.mktemp('weights') / 'resnet18.pth'
    torch.save(state, path)
    return str(path), state


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((record.levelno, record.getMessage()))


@pytest.fixture
def log_records():
    logger = MMLogger.get_current_instance()
    handler = _Records()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def test_loads_a_torchvision_file(torchvision_r18, log_records):
    path, state = torchvision_r18
    net = LocalPretrainedResNet(depth=18, pretrained=path)
    net.init_weights()
    assert net.weights_loaded
    torch.testing.assert_close(net.conv1.conv.weight, state['conv1.weight'])
    torch.testing.assert_close(net.layer3[1].conv2.conv.weight, state['layer3.1.conv2.weight'])
    torch.testing.assert_close(net.layer2[0].downsample.bn.running_var, state['layer2.0.downsample.1.running_var'])
    assert not any(level >= logging.WARNING for level, _ in log_records)


def test_flow_input_gets_the_cross_modality_init(torchvision_r18):
    path, state = torchvision_r18
    net = LocalPretrainedResNet(depth=18, pretrained=path, in_channels=10)
    net.init_weights()
    expected = state['conv1.weight'].mean(dim=1, keepdim=True).expand(-1, 10, -1, -1)
    torch.testing.assert_close(net.conv1.conv.weight, expected)
    torch.testing.assert_close(net.layer1[0].conv1.conv.weight, state['layer1.0.conv1.weight'])


@pytest.mark.parametrize('pretrained', [None, 'checkpoints/does-not-exist.pth'])
def test_missing_weights_train_from_scratch_with_a_warning(pretrained, log_records):
    torch.manual_seed(0)
    net = LocalPretrainedResNet(depth=18, pretrained=pretrained)
    net.init_weights()
    assert not net.weights_loaded and net.pretrained == pretrained
    warnings = [m for level, m in log_records if level == logging.WARNING]
    assert len(warnings) == 1 and 'no ImageNet weights' in warnings[0] and 'training from scratch' in warnings[0]
    assert net(torch.randn(2, 3, 64, 64)).shape == (2, 512, 2, 2)
