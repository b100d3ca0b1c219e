"""The demo's preset table: every preset resolves to a complete, consistent distillation config."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from mmengine.config import Config

from vpd_mm.mocap_sports.plan import ACTION_CLASSES, PRESETS
from vpd_mm.mocap_sports.presets import DEMO_PRESETS, class_names, distill_cfg_options

CONFIGS = {'configs/vpd/2d_vpd_mocap_sports.py': 26, 'configs/vpd/vi_vpd_mocap_sports.py': 64}


def _resolved(config: str, preset, teacher=None) -> Config:
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(distill_cfg_options(preset, '/data/corpus', teacher))
    return cfg


@pytest.mark.parametrize('name', sorted(DEMO_PRESETS))
@pytest.mark.parametrize('config', sorted(CONFIGS))
def test_preset_resolves_to_a_consistent_config(name, config):
    preset = DEMO_PRESETS[name]
    cfg = _resolved(config, preset)
    size = preset.input_size
    assert cfg.model.backbone.arch == preset.arch
    train, val = cfg.train_dataloader, cfg.val_dataloader
    assert [train.dataset.pipeline[i].type for i in (0, 4)] == ['LoadCropAndFlow', 'ResizedCropWithFlow']
    assert train.dataset.pipeline[0].size == train.dataset.pipeline[4].size == size
    assert val.dataset.pipeline[0].type == 'LoadCropAndFlow' and val.dataset.pipeline[0].size == size
    assert cfg.test_dataloader.dataset.pipeline[0].size == size
    # flow in pixels of the resized crop, +-20 px at 128 -> +-0.5 after normalisation at every size
    std = cfg.model.data_preprocessor.std
    assert len(std) == 5 and std[3] == std[4] == pytest.approx(40.0 * size / 128)
    assert 20 * size / 128 / std[3] == pytest.approx(0.5)
    assert train.batch_size == preset.batch_size and train.sampler.num_samples == preset.frames_per_epoch
    assert cfg.train_cfg.max_epochs == preset.epochs and cfg.optim_wrapper.optimizer.lr == preset.lr
    assert train.num_workers == val.num_workers == preset.num_workers
    assert train.persistent_workers == (preset.num_workers > 0)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.data_root == '/data/corpus'
    # complete: the model builds and maps a batch of the preset's inputs to the teacher's dimension
    import vpd_mm  # noqa: F401  (registration)
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    student = MODELS.build(cfg.model.backbone)
    with torch.no_grad():
        assert student(torch.zeros(2, 5, size, size)).shape == (2, CONFIGS[config])


def test_oracle_student_reads_the_oracle_teacher():
    cfg = _resolved('configs/vpd/2d_vpd_mocap_sports.py', DEMO_PRESETS['default'], teacher='gt2d')
    assert {cfg[k].dataset.teacher for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')} == {'gt2d'}


def test_preset_sizes():
    default, paper, tiny = DEMO_PRESETS['default'], DEMO_PRESETS['paper'], DEMO_PRESETS['tiny']
    # the paper's schedule on the embedded benchmark: ResNet-34, 128 px, batch 100, 20,000 frames per epoch
    assert (paper.arch, paper.input_size, paper.batch_size, paper.frames_per_epoch) == ('resnet34', 128, 100, 20000)
    assert paper.instances_per_class >= 100 and paper.num_workers > 0 and paper.device == 'cuda'
    assert default.distill_steps == default.epochs * default.frames_per_epoch // default.batch_size
    assert len(class_names(default)) >= 12 and all(c in ACTION_CLASSES for c in class_names(default))
    assert class_names(tiny) == tuple(PRESETS['tiny'].classes)
    for preset in DEMO_PRESETS.values():  # every k has k training instances per class
        spec = replace(PRESETS[preset.corpus], instances_per_class=preset.instances_per_class,
                       test_fraction=preset.test_fraction)
        assert max(preset.ks) <= spec.split_counts()[0]
        assert set(preset.bigru_ks) <= set(preset.ks) and preset.trials >= 1 and preset.dtw_trials >= 1
    # the default demo's test split is as large as the design corpus's (6 of 16 per class: 72 instances)
    assert replace(PRESETS['default'], instances_per_class=16, test_fraction=default.test_fraction,
                   classes=class_names(default)).split_counts() == (9, 1, 6)
