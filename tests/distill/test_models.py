"""VPDStudent, PoseMotionHead and PoseDistiller: shapes, conv1 initialisation, hand-computed losses, modes."""
from __future__ import annotations

import pytest
import torch
import torchvision
from mmaction.structures import ActionDataSample
from mmengine.registry import init_default_scope

import vpd_mm  # noqa: F401
from vpd_mm.models.pose_motion_head import PoseMotionHead
from vpd_mm.models.student import VPDStudent, widen_first_conv


@pytest.fixture(autouse=True)
def _scope(one_thread):
    init_default_scope('mmaction')


def test_student_shapes_and_archs():
    x = torch.randn(2, 5, 128, 128)
    net = VPDStudent(out_dim=26, arch='resnet18')
    assert net(x).shape == (2, 26)
    assert VPDStudent(out_dim=64).net.fc.in_features == 512  # resnet34 by default
    assert VPDStudent(out_dim=128, arch='resnet50').net.fc.in_features == 2048
    rgb = VPDStudent(out_dim=26, arch='resnet18', in_channels=3)
    assert rgb.net.conv1.weight.shape == (64, 3, 7, 7)
    with pytest.raises(ValueError, match='expected input'):
        net(torch.randn(2, 3, 128, 128))
    with pytest.raises(ValueError, match='arch'):
        VPDStudent(out_dim=26, arch='resnet101x')


def test_widened_conv1_is_the_channel_mean_copied_to_all_inputs():
    conv = torch.nn.Conv2d(3, 4, 3, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.arange(4 * 3 * 9, dtype=torch.float32).reshape(4, 3, 3, 3))
    wide = widen_first_conv(conv, 5)
    assert wide.weight.shape == (4, 5, 3, 3)
    # channel c of output 0, tap 0: (0 + 9 + 18) / 3 = 9 for every input channel
    assert torch.equal(wide.weight[0, :, 0, 0], torch.full((5,), 9.0))
    for c in range(5):
        assert torch.allclose(wide.weight[:, c], conv.weight.mean(dim=1))
    # an input whose 5 channels are equal gives 5/3 of the 3-channel response to the same image
    img = torch.randn(1, 1, 8, 8)
    assert torch.allclose(wide(img.expand(1, 5, 8, 8)), conv(img.expand(1, 3, 8, 8)) * 5 / 3, atol=1e-4)


def test_student_loads_imagenet_weights_by_path(tmp_path):
    reference = torchvision.models.resnet18(weights=None)
    path = tmp_path / 'resnet18-imagenet.pth'
    torch.save(reference.state_dict(), path)
    net = VPDStudent(out_dim=26, arch='resnet18', pretrained=str(path))
    expected = reference.conv1.weight.mean(dim=1)
    for c in range(5):
        assert torch.equal(net.net.conv1.weight[:, c], expected)
    assert torch.equal(net.net.layer3[0].conv1.weight, reference.layer3[0].conv1.weight)
    assert net.net.fc.out_features == 26
    # without weights the 5 input slices start equal too (the reference does the same for random init)
    rand = VPDStudent(out_dim=26, arch='resnet18')
    assert all(torch.equal(rand.net.conv1.weight[:, 0], rand.net.conv1.weight[:, c]) for c in range(5))


def test_student_bad_weights_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        VPDStudent(out_dim=26, arch='resnet18', pretrained=str(tmp_path / 'nope.pth'))
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='bad.pth'):
        VPDStudent(out_dim=26, arch='resnet18', pretrained=str(bad))


def _samples(poses, motions=None):
    out = []
    for i, pose in enumerate(poses):
        sample = ActionDataSample()
        sample.gt_pose = torch.tensor(pose, dtype=torch.float32)
        if motions is not None:
            sample.gt_motion = torch.tensor(motions[i], dtype=torch.float32)
        out.append(sample)
    return out


def test_head_without_motion_is_identity_and_squared_error():
    head = PoseMotionHead(in_dim=2, with_motion=False)
    assert not list(head.parameters())
    feats = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    losses = head.loss(feats, _samples([[0.0, 0.0], [1.0, 1.0]]))
    # frame errors: 1 + 4 = 5 and 4 + 9 = 13, mean 9
    assert set(losses) == {'loss_pose'}
    assert losses['loss_pose'].item() == pytest.approx(9.0)


def test_head_with_motion_equal_weights():
    head = PoseMotionHead(in_dim=2, hidden=(128, 128))
    assert [m.out_features for m in head.decoder if isinstance(m, torch.nn.Linear)] == [128, 128, 4]
    last = head.decoder[-1]
    with torch.no_grad():  # D predicts the constant [1, 2, 3, 4] = [p, delta p]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    losses = head.loss(torch.randn(2, 2), _samples([[1.0, 0.0], [0.0, 2.0]], [[3.0, 4.0], [0.0, 0.0]]))
    # pose: (0 + 4) and (1 + 0) -> mean 2.5; motion: 0 and (9 + 16) -> mean 12.5
    assert losses['loss_pose'].item() == pytest.approx(2.5)
    assert losses['loss_motion'].item() == pytest.approx(12.5)


def test_distiller_modes():
    from mmaction.registry import MODELS
    model = MODELS.build(dict(
        type='PoseDistiller', backbone=dict(type='VPDStudent', arch='resnet18', out_dim=3),
        head=dict(type='PoseMotionHead', in_dim=3),
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=[0.0] * 5, std=[1.0] * 5)))
    model.eval()
    x = torch.randn(2, 5, 64, 64)
    feats = model(x, mode='tensor')
    assert torch.equal(feats, model.backbone(x))
    samples = _samples([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]], [[0.0] * 3, [0.5] * 3])
    losses = model(x, samples, mode='loss')
    assert set(losses) == {'loss_pose', 'loss_motion'}
    preds = model(x, samples, mode='predict')
    assert preds[0].pred_target.shape == (6,) and torch.allclose(preds[0].pred_feat, feats[0])
    expected = ((model.head(feats)[:, :3] - torch.tensor([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])) ** 2).sum(1).mean()
    assert losses['loss_pose'].item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match='in_dim'):
        MODELS.build(dict(type='PoseDistiller', backbone=dict(type='VPDStudent', arch='resnet18', out_dim=3),
                          head=dict(type='PoseMotionHead', in_dim=4)))
