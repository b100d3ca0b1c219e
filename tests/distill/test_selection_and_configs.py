"""Validation loss metric, the 5-epoch moving average hook, the AMP-when-CUDA wrapper, and every VPD config."""
from __future__ import annotations

import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import AmpOptimWrapper, OptimWrapper

import vpd_mm  # noqa: F401
import vpd_mm.engine  # noqa: F401
from vpd_mm.engine import AmpOptimWrapperIfCuda, LossMovingAverageHook
from vpd_mm.evaluation import DistillLossMetric

from conftest import REPO


def test_distill_loss_metric_hand_computed():
    metric = DistillLossMetric()
    samples = [dict(gt_pose=torch.tensor([0.0, 0.0]), gt_motion=torch.tensor([1.0, 0.0]),
                    pred_target=torch.tensor([1.0, 0.0, 1.0, 2.0])),
               dict(gt_pose=torch.tensor([2.0, 2.0]), gt_motion=torch.tensor([1.0, 0.0]),
                    pred_target=torch.tensor([2.0, 2.0, 0.0, 0.0]))]
    metric.process({}, samples)
    out = metric.evaluate(2)
    # pose errors 1 and 0 -> 0.5; motion errors 4 and 1 -> 2.5
    assert out['val/loss_pose'] == pytest.approx(0.5)
    assert out['val/loss_motion'] == pytest.approx(2.5)
    assert out['val/loss'] == pytest.approx(3.0)
    # best constant = the mean target [1, 1, 1, 0]: every frame is off by 1 in each pose dim -> 2
    assert out['val/loss_const'] == pytest.approx(2.0)


def test_moving_average_hook_and_its_checkpoint_round_trip():
    class Runner:
        message_hub = MessageHub.get_instance('test_moving_average_hook')

    hook = LossMovingAverageHook(key='val/loss', window=5)
    averages = []
    for value in [6.0, 4.0, 2.0, 4.0, 4.0, 10.0, 0.0]:
        metrics = {'val/loss': value}
        hook.after_val_epoch(Runner, metrics)
        averages.append(metrics['val/loss_ma5'])
    assert averages == pytest.approx([6.0, 5.0, 4.0, 4.0, 4.0, 4.8, 4.0])
    assert Runner.message_hub.get_scalar('val/val/loss_ma5').current() == pytest.approx(4.0)
    checkpoint = {'meta': {}}
    hook.before_save_checkpoint(Runner, checkpoint)
    resumed = LossMovingAverageHook(key='val/loss', window=5)
    resumed.after_load_checkpoint(Runner, checkpoint)
    metrics = {'val/loss': 1.0}
    resumed.after_val_epoch(Runner, metrics)
    assert metrics['val/loss_ma5'] == pytest.approx((4 + 4 + 10 + 0 + 1) / 5)
    with pytest.raises(KeyError, match='DistillLossMetric'):
        resumed.after_val_epoch(Runner, {'acc/top1': 1.0})


def test_amp_wrapper_only_with_cuda():
    optimizer = torch.optim.AdamW(torch.nn.Linear(2, 2).parameters(), lr=5e-4)
    wrapper = AmpOptimWrapperIfCuda(optimizer=optimizer, loss_scale='dynamic')
    assert isinstance(wrapper, OptimWrapper)
    assert isinstance(wrapper, AmpOptimWrapper) == torch.cuda.is_available()


CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'vpd', '*.py')) +
                 glob.glob(osp.join(REPO, 'configs', 'vpd', 'ablations', '*.py')))
EXPECTED = {'2d': ('pose2d', 26), 'vi': ('vipe', 64)}


def test_every_sport_and_ablation_config_exists():
    names = {osp.basename(p) for p in CONFIGS}
    for teacher in ('2d', 'vi'):
        for sport in ('fsjump6', 'tennis7', 'fx35', 'diving48'):
            assert f'{teacher}_vpd_{sport}.py' in names
            assert f'{teacher}_vpd_{sport}_no_motion.py' in names and f'{teacher}_vpd_{sport}_rgb_no_motion.py' in names
    for sport in ('fsjump6', 'tennis7', 'fx35'):
        assert f'vi_vpd_{sport}_action_frames.py' in names
    for sport in ('fsjump6', 'tennis7', 'fx35', 'diving48'):
        assert f'vi_vpd_{sport}_entire_corpus.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.relpath(p, osp.join(REPO, 'configs', 'vpd')) for p in CONFIGS])
def test_config_is_consistent(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    model, train, val = cfg.model, cfg.train_dataloader.dataset, cfg.val_dataloader.dataset
    assert cfg.default_scope == 'mmaction' and 'vpd_mm' in cfg.custom_imports.imports
    assert model.backbone.out_dim == model.head.in_dim
    assert len(model.data_preprocessor.mean) == len(model.data_preprocessor.std) == model.backbone.in_channels
    for key in ('data_root', 'teacher', 'min_score', 'with_motion', 'with_flow', 'include_test', 'frames', 'seed',
                'val_fraction', 'split_by'):
        assert train[key] == val[key] == cfg.test_dataloader.dataset[key], key
    assert (train.split, val.split) == ('train', 'val')
    assert train.with_motion == model.head.with_motion
    assert train.with_flow == (model.backbone.in_channels == 5)
    assert not any(t['type'] in ('MirrorCropAndTarget', 'CropColorJitter', 'BackgroundNoise', 'ResizedCropWithFlow')
                   for t in val.pipeline)  # validation is not augmented (reference bug 2)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapperIfCuda' and cfg.optim_wrapper.optimizer.lr == 5e-4
    assert cfg.optim_wrapper.optimizer.type == 'AdamW' and cfg.randomness.seed == 0
    assert cfg.default_hooks.checkpoint.save_best == 'val/loss_ma5' and cfg.default_hooks.checkpoint.rule == 'less'
    assert any(h.type == 'LossMovingAverageHook' and h.window == 5 for h in cfg.custom_hooks)
    assert any(h.type == 'MallocThresholdHook' for h in cfg.custom_hooks)
    if name == '2d_vpd_synthetic.py':
        assert model.backbone.arch == 'resnet18'
        return
    if name.endswith('_mocap_sports.py'):  # the CPU-sized recipe of `make demo` (documented in the config)
        assert model.backbone.arch == 'resnet18' and train.include_test is False and val.max_frames == 800
        assert (train.teacher, model.backbone.out_dim) == EXPECTED[name[:2]]
        return
    assert model.backbone.arch == 'resnet34' and cfg.train_dataloader.batch_size == 100
    assert cfg.train_dataloader.sampler == dict(type='ReplacementSampler', num_samples=20000)
    assert cfg.train_cfg.max_epochs == 1000 and val.max_frames == 4000
    sport = name.split('_')[2].removesuffix('.py')
    teacher, dim = EXPECTED[name[:2]]
    if sport == 'diving48' and name.startswith('vi'):
        teacher, dim = 'vipe_inv', 128
    assert (train.teacher, model.backbone.out_dim) == (teacher, dim)
    assert train.min_score == (0.7 if sport == 'tennis7' else 0.5)
    assert train.data_root == f'data/{sport}'
    std = np.array(model.data_preprocessor.std[:3]) / 255
    noise = [t for t in train.pipeline if t['type'] == 'BackgroundNoise'][0]
    assert np.allclose(noise['rgb_std'], std)  # the noise follows the sport's normalisation
    ablation = {'no_motion': (False, True, 'all', False), 'rgb_no_motion': (False, False, 'all', False),
                'action_frames': (True, True, 'actions', False), 'entire_corpus': (True, True, 'all', True)}
    kind = next((k for k in sorted(ablation, key=len, reverse=True) if name.endswith(f'_{k}.py')), None)
    want = ablation.get(kind, (True, True, 'all', False))
    assert (train.with_motion, train.with_flow, train.frames, train.include_test) == want
