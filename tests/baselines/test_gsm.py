"""GSM: identity at initialisation, the gate-and-shift arithmetic, gradients reach the gates, ResNetGSM."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vpd_mm.models.gsm import GateShift, GSMConv2d, ResNetGSM
from vpd_mm.models.resnet_weights import LocalPretrainedResNet

DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


@pytest.mark.parametrize('device', DEVICES)
def test_zero_gates_are_the_identity(device):
    torch.manual_seed(0)
    gsm = GateShift(channels=8, num_segments=4).to(device).train()
    x = torch.randn(2 * 4, 8, 5, 6, device=device)
    assert torch.count_nonzero(gsm.gate.weight) == 0 and torch.count_nonzero(gsm.gate.bias) == 0
    assert torch.equal(gsm(x), x)  # exactly, not only up to rounding
    gsm.eval()
    assert torch.equal(gsm(x), x)


def _expected(x: np.ndarray, g: float, t: int) -> np.ndarray:
    """Hand-written gate-and-shift with constant gate g: first half reads t+1, second half t-1, zeros enter."""
    nt, c = x.shape[:2]
    clips = x.reshape(nt // t, t, c, *x.shape[2:])
    out = clips * (1 - g)
    half = c // 2
    out[:, :-1, :half] += g * clips[:, 1:, :half]
    out[:, 1:, half:] += g * clips[:, :-1, half:]
    return out.reshape(x.shape)


def test_constant_gate_shifts_half_the_channels_each_way():
    torch.manual_seed(1)
    gsm = GateShift(channels=4, num_segments=3).eval()
    with torch.no_grad():
        gsm.gate.bias.fill_(0.5)  # weights stay 0: gate = tanh(0.5) everywhere
    x = torch.randn(2 * 3, 4, 2, 2)
    g = float(np.tanh(0.5))
    np.testing.assert_allclose(gsm(x).detach().numpy(), _expected(x.numpy().astype(np.float64), g, 3),
                               rtol=1e-5, atol=1e-6)
    # segment 0 of the second half receives nothing from before the clip: only (1 - g) of itself
    np.testing.assert_allclose(gsm(x)[0, 2:].detach().numpy(), (1 - g) * x[0, 2:].numpy(), rtol=1e-5, atol=1e-6)


def test_gradient_reaches_the_gates():
    torch.manual_seed(2)
    gsm = GateShift(channels=6, num_segments=4).train()
    x = torch.randn(8, 6, 4, 4, requires_grad=True)
    target = torch.randn(8, 6, 4, 4)
    loss = ((gsm(x) - target) ** 2).mean()
    loss.backward()
    assert gsm.gate.weight.grad is not None and gsm.gate.bias.grad is not None
    assert gsm.gate.weight.grad.abs().sum() > 0
    assert gsm.gate.bias.grad.abs().sum() > 0
    # one SGD step makes the gates non-zero, so the module stops being the identity
    with torch.no_grad():
        for p in gsm.gate.parameters():
            p -= 0.5 * p.grad
    assert not torch.allclose(gsm(x), x)


def test_batch_must_be_whole_clips():
    with pytest.raises(ValueError, match='not a multiple of num_segments=4'):
        GateShift(4, 4)(torch.zeros(6, 4, 2, 2))
    with pytest.raises(ValueError, match='even number of channels'):
        GateShift(5, 4)


def test_gsm_conv_keeps_the_convolution_weights():
    conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=True)
    wrapped = GSMConv2d.from_conv(conv, num_segments=2)
    x = torch.randn(4, 3, 6, 6)
    assert torch.equal(wrapped(x), conv(x))  # zero gates: the conv alone
    assert set(wrapped.state_dict()) >= {'weight', 'bias', 'gsm.gate.weight'}


def test_resnet_gsm_starts_as_its_resnet(one_thread):
    torch.manual_seed(3)
    gsm_net = ResNetGSM(num_segments=2, depth=50, pretrained=None)
    gsm_net.init_weights()
    modules = gsm_net.gate_shift_modules()
    assert len(modules) == 16  # one per residual block of ResNet-50 (3 + 4 + 6 + 3)
    assert all(torch.count_nonzero(m.gate.weight) == 0 and torch.count_nonzero(m.gate.bias) == 0 for m in modules)
    plain = LocalPretrainedResNet(depth=50, pretrained=None)
    missing, unexpected = plain.load_state_dict(gsm_net.state_dict(), strict=False)
    assert not missing and all('.gsm.' in k for k in unexpected)
    gsm_net.eval()
    plain.eval()
    x = torch.randn(2 * 2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(gsm_net(x), plain(x), rtol=1e-5, atol=1e-5)
