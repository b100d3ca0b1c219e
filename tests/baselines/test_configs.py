"""Every baseline config of configs/baselines/ trains one iteration and tests on the tiny corpus.

The configs are the real ones (ResNet-50, ST-GCN, MS-G3D at full width); only the data is shrunk for a CPU: the
tiny corpus, batches of 2, 2 segments of 56x56 (16 pose frames), one training iteration, one validation and one
test batch, no checkpoint files. The ImageNet file of the configs does not exist here, so the ResNet baselines
must say in their log that they train from scratch.
"""
from __future__ import annotations

import glob
import os.path as osp

import numpy as np
import pytest
import vpd_mm  # noqa: F401  (stack fixes, registration)
from mmengine.config import Config
from mmengine.runner import Runner

from conftest import REPO
from vpd_mm.protocols.late_fusion import accuracy, fuse_predictions, read_predictions

CONFIGS = osp.join(REPO, 'configs', 'baselines')
FAMILIES = ['tsn_r50_crop', 'tsn_r50_crop-flow', 'tsn_r50_fullframe', 'trn_r50_crop', 'trn_r50_crop-flow',
            'trn_r50_fullframe', 'gsm_r50_crop', 'gsm_r50_fullframe', 'stgcn', 'msg3d', 'msg3d-bone']
RESNET_FAMILIES = {f for f in FAMILIES if '_r50_' in f}
SPORTS = {'fsjump6': 6, 'tennis7': 7, 'fx35': 35, 'diving48': 48}


def tiny_config(path: str, root: str, work_dir: str) -> Config:
    """The config at ``path`` pointed at the tiny corpus ``root`` with CPU-sized data and one iteration."""
    cfg = Config.fromfile(path)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        dataset = loader.dataset
        dataset.update(data_root=root, serialize_data=False, indices=2)
        dataset.pop('classes', None)  # the tiny corpus has its own three classes
        for step in dataset.pipeline:
            if step.type == 'SampleFrames':
                step.num_clips = 2
            elif step.type == 'UniformSampleFrames':
                step.update(clip_len=16, num_clips=min(step.get('num_clips', 1), 2))
            elif step.type == 'Resize':
                step.scale = (-1, 64) if step.scale[0] == -1 else (56, 56)
            elif step.type == 'MultiScaleCrop':
                step.input_size = 56
            elif step.type in ('CenterCrop', 'TenCrop'):
                step.crop_size = 56
            elif step.type == 'ThreeCrop':  # crops as large as the short side, as mmaction2's TRN test does
                step.crop_size = 64
    for part in ('backbone', 'cls_head'):
        if 'num_segments' in cfg.model[part]:
            cfg.model[part].num_segments = 2
    cfg.train_cfg.update(max_epochs=1, val_begin=1, val_interval=1)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    return cfg


def run(cfg: Config) -> tuple[Runner, dict]:
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner, runner.test()


def test_every_config_is_covered():
    found = {osp.basename(p)[:-3] for p in glob.glob(osp.join(CONFIGS, '*.py'))} - {'stgcn_coco2d_synthetic'}
    assert found == {f'{family}_{sport}' for family in FAMILIES for sport in SPORTS}
    for family in FAMILIES:
        for sport, num_classes in SPORTS.items():
            cfg = Config.fromfile(osp.join(CONFIGS, f'{family}_{sport}.py'))
            assert cfg.model.cls_head.num_classes == num_classes
            for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
                dataset = cfg[key].dataset
                assert dataset.data_root == f'data/{sport}' and 'features' in dataset
                assert len(dataset.get('classes') or [None] * num_classes) == num_classes
            assert (cfg.train_dataloader.dataset.get('carve_val', 0) > 0) == (sport in ('fx35', 'diving48'))
            if family in RESNET_FAMILIES:
                assert cfg.model.backbone.pretrained == 'checkpoints/resnet50-11ad3fa6.pth'


def _recipe(cfg: Config) -> dict:
    """The parts of a config that are the training recipe (everything but the data)."""
    return {key: cfg.get(key) for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'auto_scale_lr',
                                          'find_unused_parameters')}


def _steps(pipeline) -> list[str]:
    return [step.type for step in pipeline]


@pytest.mark.parametrize('sport', SPORTS)
def test_trn_flow_is_the_trn_recipe_on_stacked_flow(sport):
    """TRN on flow (the flow stream of TRN's two-stream row): trn_r50_crop's model and schedule, 8 segments of 5
    stacked flow fields (10 channels, mean / std 128), the flow crops of the corpus, flow-aware flipping."""
    rgb = Config.fromfile(osp.join(CONFIGS, f'trn_r50_crop_{sport}.py'))
    flow = Config.fromfile(osp.join(CONFIGS, f'trn_r50_crop-flow_{sport}.py'))
    assert _recipe(flow) == _recipe(rgb)
    assert flow.model.cls_head == rgb.model.cls_head and flow.model.cls_head.type == 'TRNHead'
    assert flow.model.backbone.in_channels == 10 and rgb.model.backbone.get('in_channels', 3) == 3
    assert {k: v for k, v in flow.model.backbone.items() if k != 'in_channels'} == \
        {k: v for k, v in rgb.model.backbone.items() if k != 'in_channels'}
    assert flow.model.data_preprocessor.mean == [128] * 10 == flow.model.data_preprocessor.std
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = flow[key].dataset
        assert dataset.type == 'CropActionDataset' and dataset.modality == 'Flow'
        assert dataset.features == 'TRNms (crop; flow)'
        sample = dataset.pipeline[0]
        assert sample.type == 'SampleFrames' and sample.clip_len == 5 and sample.num_clips == 8
    assert 'FlipStackedFlow' in _steps(flow.train_dataloader.dataset.pipeline)
    assert 'Flip' not in _steps(flow.train_dataloader.dataset.pipeline)
    assert flow.test_dataloader.dataset.pipeline[0].twice_sample


@pytest.mark.parametrize('family,crop_family,label', [('trn_r50_fullframe', 'trn_r50_crop', 'TRNms (w/o crop)'),
                                                      ('gsm_r50_fullframe', 'gsm_r50_crop', 'GSM (w/o crop)')])
@pytest.mark.parametrize('sport', SPORTS)
def test_fullframe_rows_are_the_crop_recipe_on_whole_frames(family, crop_family, label, sport):
    """TRN and GSM on full frames: the same model and schedule as on the crops; only the data differs (the corpus
    videos through mmaction2's decord pipeline, segments kept inside the action's window)."""
    crop = Config.fromfile(osp.join(CONFIGS, f'{crop_family}_{sport}.py'))
    full = Config.fromfile(osp.join(CONFIGS, f'{family}_{sport}.py'))
    assert full.model == crop.model and _recipe(full) == _recipe(crop)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset, crop_dataset = full[key].dataset, crop[key].dataset
        assert dataset.type == 'CorpusVideoDataset' and dataset.features == label
        for same in ('data_root', 'split', 'window', 'carve_val', 'classes', 'test_mode'):
            assert dataset.get(same) == crop_dataset.get(same), (key, same)
        steps = _steps(dataset.pipeline)
        assert steps[:3] == ['DecordInit', 'ActionWindow', 'SampleFrames'] and 'DecordDecode' in steps
        assert 'CropDecode' not in steps
    test_steps = _steps(full.test_dataloader.dataset.pipeline)
    assert full.test_dataloader.dataset.pipeline[2].twice_sample
    # mmaction2's TRN test takes three 256 crops of the whole frame; the GSM authors test one centre crop
    assert ('ThreeCrop' in test_steps) == (family == 'trn_r50_fullframe')


@pytest.mark.slow
@pytest.mark.parametrize('family', FAMILIES)
def test_configs_train_one_iteration_and_test(family, crop_corpus, tmp_path, one_thread):
    for sport in SPORTS:
        name = f'{family}_{sport}'
        cfg = tiny_config(osp.join(CONFIGS, name + '.py'), crop_corpus.root, str(tmp_path / name))
        if family == 'stgcn' and sport == 'fsjump6':  # the few-shot key of every baseline
            ids = tmp_path / 'fewshot_2_0.txt'
            crop_corpus.write_id_list(str(ids), ['tiny_001_1', 'tiny_004_0'])
            cfg.train_dataloader.dataset.update(fewshot_file=str(ids), indices=None)
        runner, metrics = run(cfg)
        assert runner.iter == 1, name
        loss = runner.message_hub.get_scalar('train/loss').current()
        assert np.isfinite(loss) and loss > 0, name
        assert set(metrics) >= {'acc/top1', 'acc/mean1'} and 0 <= metrics['acc/top1'] <= 1, name
        if family == 'stgcn' and sport == 'fsjump6':
            assert runner.train_dataloader.dataset.num_actions == 2
        logs = glob.glob(osp.join(str(tmp_path / name), '*', '*.log'))
        text = open(logs[0]).read()
        scratch = 'no ImageNet weights (checkpoints/resnet50-11ad3fa6.pth does not exist); training from scratch'
        assert (scratch in text) == (family in RESNET_FAMILIES), name


@pytest.mark.slow
def test_msg3d_ensemble_fuses_real_test_dumps(crop_corpus, tmp_path, one_thread):
    streams = []
    for family in ('msg3d', 'msg3d-bone'):
        name = f'{family}_fx35'
        cfg = tiny_config(osp.join(CONFIGS, name + '.py'), crop_corpus.root, str(tmp_path / name))
        dump = str(tmp_path / f'{family}.json')
        cfg.test_evaluator = [cfg.test_evaluator[0], dict(type='DumpPredictionsJSON', out_file=dump)]
        run(cfg)
        streams.append(read_predictions(dump))
    assert streams[0][0].shape == (2, 35)  # 2 test actions (indices=2), fx35's 35 classes
    np.testing.assert_array_equal(streams[0][1], streams[1][1])
    scores, labels = fuse_predictions(streams)
    np.testing.assert_allclose(scores, (streams[0][0] + streams[1][0]) / 2)
    assert 0 <= accuracy(scores, labels)['acc/top1'] <= 1
