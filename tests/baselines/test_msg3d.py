"""MS-G3D: the COCO-17 multi-scale graphs, the G3D window, shapes, and training inside RecognizerGCN + GCNHead."""
from __future__ import annotations

import glob
import os.path as osp

import numpy as np
import pytest
import torch
import vpd_mm  # noqa: F401  (stack fixes, registration)
from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from conftest import REPO
from vpd_mm.models.msg3d import G3DPathway, MSG3DFromPaper, hop_distances, multiscale_adjacency


def coco_hops() -> np.ndarray:
    graph = Graph(layout='coco', mode='binary_adj')
    return hop_distances(graph.num_node, graph.inward)


def test_coco_hop_distances():
    hops = coco_hops()
    assert hops.shape == (17, 17) and (hops == hops.T).all() and (np.diag(hops) == 0).all()
    # nose(0) - l_shoulder(5) - l_hip(11) - l_knee(13) - l_ankle(15)
    assert hops[0, 15] == 4
    # mmaction2's COCO graph joins the hips and the shoulders only through the nose:
    # l_ankle 15-13-11-5-0-6-12-14-16 r_ankle
    assert hops[15, 16] == 8 and hops.max() == 8
    assert hops[9, 7] == 1 and hops[9, 5] == 2  # wrist - elbow - shoulder


def test_multiscale_adjacency_is_disentangled_and_normalised():
    hops = coco_hops()
    adj = multiscale_adjacency(hops, 9)
    assert adj.shape == (9, 17, 17)
    np.testing.assert_allclose(adj[0], np.eye(17))  # scale 0: self-loops only
    for k in range(1, 9):
        binary = ((hops == k) | np.eye(17, dtype=bool)).astype(float)
        degree = binary.sum(1)
        np.testing.assert_allclose(adj[k], binary / np.sqrt(np.outer(degree, degree)), rtol=1e-6)
    # scales partition the pairs: every off-diagonal pair is linked at exactly one scale
    links = (adj > 0).sum(0) - np.eye(17) * 9
    assert (links[~np.eye(17, dtype=bool)] == 1).all()
    # scale 1, elbow (7) - shoulder (5): the elbow links itself, shoulder, wrist (3); the shoulder itself, nose,
    # elbow, hip (4)
    assert adj[1, 7, 5] == pytest.approx(1 / np.sqrt(3 * 4))

def test_g3d_window_graph_tiles_the_spatial_pattern():
    hops = coco_hops()
    window = multiscale_adjacency(hops, 3, window=3)
    assert window.shape == (3, 51, 51)
    pattern = window[1] > 0
    for a in range(3):
        for b in range(3):
            assert (pattern[17 * a:17 * (a + 1), 17 * b:17 * (b + 1)] == ((hops == 1) | np.eye(17, dtype=bool))).all()


@pytest.mark.parametrize('dilation,stride,t,t_out', [(1, 1, 10, 10), (2, 1, 10, 10), (1, 2, 10, 5), (2, 2, 9, 5)])
def test_g3d_pathway_shapes(dilation, stride, t, t_out):
    pathway = G3DPathway(4, 12, coco_hops(), num_scales=3, window=3, dilation=dilation, stride=stride)
    assert pathway(torch.randn(2, 4, t, 17)).shape == (2, 12, t_out, 17)


def _identity_bn(bn: torch.nn.BatchNorm2d) -> None:
    bn.eps = 0.0
    bn.running_mean.zero_()
    bn.running_var.fill_(1.0)
    bn.weight.fill_(1.0)
    bn.bias.zero_()


@pytest.mark.parametrize('dilation', [1, 2])
def test_g3d_window_reads_the_right_frames(dilation):
    """Scale 0 of the window graph links each joint to itself in the tau = 3 frames t - d, t, t + d (degree 3, so
    weights 1/3); with unit mixing, identity batch norms and a collapse that keeps window position 0, the output at
    frame t is the mean of x[t - d], x[t], x[t + d] (zeros outside the sequence)."""
    pathway = G3DPathway(1, 1, coco_hops(), num_scales=1, window=3, dilation=dilation).eval()
    pathway.gcn.activation = False
    x = np.arange(1, 9, dtype=np.float32)
    with torch.no_grad():
        pathway.gcn.residual_mask.zero_()
        pathway.gcn.mix.weight.fill_(1.0)
        pathway.gcn.mix.bias.zero_()
        _identity_bn(pathway.gcn.bn)
        _identity_bn(pathway.bn)
        pathway.collapse.weight.zero_()
        pathway.collapse.bias.zero_()
        pathway.collapse.weight[0, 0, 0, 0, 0] = 1.0
        out = pathway(torch.from_numpy(x).view(1, 1, 8, 1).repeat(1, 1, 1, 17))
    padded = np.concatenate([np.zeros(dilation), x, np.zeros(dilation)])
    expected = (padded[:-2 * dilation] + padded[dilation:-dilation] + padded[2 * dilation:]) / 3
    np.testing.assert_allclose(out[0, 0, :, 5].numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(out[0, 0, :, 0].numpy(), expected, rtol=1e-6)  # every joint alike


@pytest.mark.parametrize('t', [30, 16])
def test_msg3d_shapes_on_coco(t, one_thread):
    torch.manual_seed(0)
    model = MSG3DFromPaper(graph_cfg=dict(layout='coco', mode='binary_adj'), base_channels=24, num_person=2)
    out = model(torch.randn(3, 2, t, 17, 3))
    assert out.shape == (3, 2, 96, -(-(-(-t // 2)) // 2), 17)
    with pytest.raises(ValueError, match=r'expects \(N, 2, T, 17, 3\)'):
        model(torch.randn(3, 1, t, 17, 3))


def test_msg3d_default_scales_cover_the_coco_graph():
    model = MSG3DFromPaper(graph_cfg=dict(layout='coco'), base_channels=12, num_person=1)
    first = model.blocks[0].factorized[0]
    assert first.adjacency.shape == (9, 17, 17)  # diameter 8 + 1
    assert model.blocks[0].g3d[0].gcn.adjacency.shape == (6, 51, 51)
    assert len(model.blocks[0].g3d) == 2  # dilations 1 and 2


def test_msg3d_in_recognizer_gcn_trains_and_predicts(one_thread):
    """The baseline config's model (MSG3DFromPaper + GCNHead), as the Runner builds it: gradients reach the adaptive
    graph masks and the G3D pathways, one SGD step changes the weights, predictions are per-class probabilities."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'baselines', 'msg3d_fx35.py'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert model.backbone.out_channels == cfg.model.cls_head.in_channels == 384
    torch.manual_seed(0)
    batch = dict(inputs=[torch.randn(1, 1, 20, 17, 3), torch.randn(1, 1, 20, 17, 3)],
                 data_samples=[ActionDataSample().set_gt_label(3), ActionDataSample().set_gt_label(7)])
    data = model.data_preprocessor(batch, True)
    loss = model(**data, mode='loss')['loss_cls']
    loss.backward()
    first = model.backbone.blocks[0]
    for param in (first.factorized[0].residual_mask, first.g3d[1].gcn.residual_mask, first.g3d[0].collapse.weight):
        assert param.grad is not None and param.grad.abs().sum() > 0
    model.zero_grad()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    before = first.factorized[0].mix.weight.detach().clone()
    losses = model.train_step(batch, optim)
    assert torch.isfinite(losses['loss_cls'])
    assert not torch.equal(before, first.factorized[0].mix.weight)
    model.eval()
    with torch.no_grad():
        preds = model.test_step(dict(inputs=[torch.randn(2, 1, 20, 17, 3)], data_samples=[ActionDataSample()]))
    assert preds[0].pred_score.shape == (35,)
    assert float(preds[0].pred_score.sum()) == pytest.approx(1.0, abs=1e-5)


# Registry names ------------------------------------------------------------------------------------------------
# The classes mmaction2 1.2.0's projects/ register in mmaction's registries (projects/actionclip, ctrgcn,
# example_project, msg3d, umt): a user may import any of them next to vpd_mm, so vpd_mm must not use these names.
PROJECT_NAMES = {'ActionClip', 'CTRGCN', 'ExampleNet', 'MSG3D', 'UMTViT'}


def _vpd_mm_registrations() -> dict[str, set[str]]:
    """``{registry attribute of mmaction.registry: names of the vpd_mm classes registered in it}``."""
    import mmaction.registry as registries
    from mmengine.registry import Registry
    found: dict[str, set[str]] = {}
    for attribute in dir(registries):
        registry = getattr(registries, attribute)
        if isinstance(registry, Registry):
            for name, obj in registry.module_dict.items():
                if getattr(obj, '__module__', '').startswith('vpd_mm.'):
                    found.setdefault(attribute, set()).add(name)
    return found


def test_no_registered_name_clashes_with_mmaction2_projects():
    registered = _vpd_mm_registrations()
    assert 'MSG3DFromPaper' in registered['MODELS'] and 'MSG3D' not in MODELS.module_dict
    assert {r: names & PROJECT_NAMES for r, names in registered.items() if names & PROJECT_NAMES} == {}
    configs = [p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
               if "type='MSG3D'" in open(p).read()]
    assert configs == []


def test_projects_msg3d_registers_next_to_vpd_mm(one_thread):
    """``import projects.msg3d.models`` registers a backbone named ``MSG3D`` in mmaction's MODELS; with vpd_mm
    imported this used to raise ``KeyError: 'MSG3D is already registered'``. Now both register and both build."""

    class ProjectMSG3D(torch.nn.Module):  # stands in for projects/msg3d/models/msg3d.py's class
        def __init__(self, graph_cfg: dict, num_person: int = 2) -> None:
            super().__init__()
            self.num_person = num_person

    try:
        MODELS.register_module(name='MSG3D', module=ProjectMSG3D)
        theirs = MODELS.build(dict(type='MSG3D', graph_cfg=dict(layout='coco'), num_person=1))
        ours = MODELS.build(dict(type='MSG3DFromPaper', graph_cfg=dict(layout='coco'), base_channels=12,
                                 num_person=1))
        assert isinstance(theirs, ProjectMSG3D) and isinstance(ours, MSG3DFromPaper)
    finally:
        MODELS._module_dict.pop('MSG3D', None)
