"""End to end on the tiny corpus: training through tools/train.py (kill, resume, best checkpoint, 2-process gloo),
the student learning the teacher, and tools/extract_features.py."""
from __future__ import annotations

import glob
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import REPO, run_python

from .conftest import ONE_THREAD, single_thread_env

SYNTHETIC = osp.join(REPO, 'configs', 'vpd', '2d_vpd_synthetic.py')
FX35 = osp.join(REPO, 'configs', 'vpd', 'vi_vpd_fx35.py')


def tiny_options(root: str) -> list[str]:
    """Point vi_vpd_fx35.py (ResNet-34, 128 x 128, d = 64) at the tiny corpus with CPU-sized epochs."""
    return ['--cfg-options', f'train_dataloader.dataset.data_root={root}', f'val_dataloader.dataset.data_root={root}',
            f'test_dataloader.dataset.data_root={root}', 'train_dataloader.batch_size=4',
            'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
            'train_dataloader.sampler.num_samples=8', 'val_dataloader.batch_size=8', 'val_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False', 'val_dataloader.dataset.max_frames=8',
            'default_hooks.logger.interval=1']


def _last_epoch(work_dir: str) -> int:
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.exists(path):
        return 0
    with open(path) as f:
        name = osp.basename(f.read().strip())
    return int(name[len('epoch_'):-len('.pth')])


def _val_records(work_dir: str) -> list[dict]:
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            records += [r for r in map(json.loads, f) if 'val/loss' in r]
    return records


@pytest.mark.slow
def test_fx35_config_trains_is_killed_resumes_and_keeps_the_best(distill_corpus, tmp_path):
    work_dir = str(tmp_path / 'work')
    options = tiny_options(distill_corpus.root)
    process = subprocess.Popen([sys.executable, 'tools/train.py', FX35, '--work-dir', work_dir, *options,
                                'train_cfg.max_epochs=1000'], cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=single_thread_env())
    deadline = time.time() + 240
    try:
        while time.time() < deadline and _last_epoch(work_dir) < 2:
            time.sleep(0.2)
            assert process.poll() is None, 'training died before saving two epochs'
    finally:
        process.send_signal(signal.SIGKILL)  # no clean-up
        process.wait()
    killed_at = _last_epoch(work_dir)
    assert killed_at >= 2
    target = killed_at + 1
    result = run_python(['tools/train.py', FX35, '--work-dir', work_dir, '--resume', *options,
                         f'train_cfg.max_epochs={target}'], env=ONE_THREAD)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert f'resumed epoch: {killed_at}' in log
    assert f'Epoch(train) [{target}][1/2]' in log and f'Epoch(train) [{killed_at}][' not in log
    assert 'Epoch(val) [%d][1/1]' % target in log
    assert _last_epoch(work_dir) == target
    best = glob.glob(osp.join(work_dir, 'best_val_loss_ma5_epoch_*.pth'))
    assert len(best) == 1  # the best checkpoint is kept, older bests removed
    records = _val_records(work_dir)
    assert records and all('val/loss_ma5' in r for r in records)
    best_epoch = int(best[0].split('_')[-1][:-len('.pth')])
    assert 1 <= best_epoch <= target


def test_fx35_train_loader_sends_float16_inputs_that_train_in_float32(distill_corpus, one_thread):
    """The distillation configs' train loader, built by the Runner with a worker: the inputs arrive as float16
    views of one block (shared_storage_collate's inputs_dtype), the data preprocessor gives float32 equal to the
    float32 path within float16 rounding, and a train step on them gives finite losses."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    from mmaction.registry import MODELS
    cfg = Config.fromfile(FX35)
    loader_cfg = cfg.train_dataloader
    loader_cfg.update(batch_size=4, num_workers=1, persistent_workers=False)
    loader_cfg.sampler.num_samples = 4
    loader_cfg.dataset.data_root = distill_corpus.root
    with DefaultScope.overwrite_default_scope('mmaction'):
        loader = Runner.build_dataloader(loader_cfg, seed=0)
        (batch,) = list(loader)
        model = MODELS.build(cfg.model)
    inputs = batch['inputs']
    assert len(inputs) == 4 and all(t.dtype == torch.float16 and t.shape == (5, 128, 128) for t in inputs)
    assert len({t.untyped_storage().data_ptr() for t in inputs}) == 1
    normalised = model.data_preprocessor(dict(batch), True)['inputs']
    assert normalised.dtype == torch.float32 and normalised.shape == (4, 5, 128, 128)
    mean, std = model.data_preprocessor.mean, model.data_preprocessor.std
    expected = (torch.stack(inputs).float() - mean) / std
    assert torch.allclose(normalised, expected, atol=1e-6)
    losses = model(**model.data_preprocessor(dict(batch), True), mode='loss')
    assert losses and all(torch.isfinite(v).all() for v in losses.values())


@pytest.mark.slow
def test_fx35_config_two_process_gloo(distill_corpus, tmp_path):
    env = dict(single_thread_env(), PYTHON=sys.executable, PORT='29541')
    cmd = ['bash', 'tools/dist_train.sh', FX35, '2', '--work-dir', str(tmp_path), *tiny_options(distill_corpus.root),
           'train_cfg.max_epochs=1', 'env_cfg.dist_cfg.backend=gloo']
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert 'Distributed training: True' in log
    assert 'Epoch(train) [1][1/1]' in log  # 8 frames per epoch, 4 per rank: one batch of 4 on each rank
    assert 'Epoch(val) [1][1/1]' in log and 'val/loss_ma5' in log
    assert sorted(p.name for p in tmp_path.glob('epoch_*.pth')) == ['epoch_1.pth']  # saved once, by rank 0
    assert len(list(tmp_path.glob('best_val_loss_ma5_epoch_1.pth'))) == 1


@pytest.fixture(scope='module')
def trained_synthetic(distill_corpus, tmp_path_factory):
    """2d_vpd_synthetic.py trained in this process for 20 short epochs (160 steps of 8 frames).

    To fit the CPU budget of the suite, the training frames go through the validation pipeline (no augmentation)
    and the learning rate is 1e-3 with cosine decay; everything else is the config's.
    """
    from mmengine.config import Config
    from mmengine.runner import Runner
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    cfg = Config.fromfile(SYNTHETIC)
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.data_root = distill_corpus.root
    cfg.train_dataloader.dataset.pipeline = cfg.val_dataloader.dataset.pipeline
    cfg.train_dataloader.batch_size = 8
    cfg.train_cfg.max_epochs = 20
    cfg.optim_wrapper.optimizer.lr = 1e-3
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', T_max=20, by_epoch=True, convert_to_iter_based=True)]
    cfg.work_dir = str(tmp_path_factory.mktemp('synthetic_work'))
    runner = Runner.from_cfg(cfg)
    runner.train()
    torch.set_num_threads(before)
    return cfg, runner


def _targets(dataset) -> np.ndarray:
    """(N, 2d) [p_t, p_t - p_{t-1}] (original rows) of every frame of a dataset, from its target table."""
    rows = dataset.rows
    pose = dataset.table_feats[rows, 0]
    return np.concatenate([pose, pose - dataset.table_feats[rows - 1, 0]], axis=1)


@pytest.mark.slow
def test_student_learns_well_below_the_mean_target(trained_synthetic, one_thread):
    from mmaction.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    cfg, runner = trained_synthetic
    train = DATASETS.build(cfg.train_dataloader.dataset)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    val_targets = _targets(val)
    mean_target = _targets(train).mean(axis=0)  # the best constant a student could learn from the train frames
    baseline = float(((val_targets - mean_target) ** 2).sum(axis=1).mean())
    model = runner.model.eval()
    with torch.no_grad():
        batch = model.data_preprocessor(pseudo_collate([val[i] for i in range(len(val))]), False)
        pred = model.head(model(batch['inputs'], mode='tensor')).numpy()
    student = float(((pred - val_targets) ** 2).sum(axis=1).mean())
    print(f'val loss: student {student:.4f}, mean target {baseline:.4f}, ratio {student / baseline:.3f}')
    assert student < 0.6 * baseline
    assert _val_records(cfg.work_dir)[-1]['val/loss'] == pytest.approx(student, rel=1e-3)  # the metric agrees


@pytest.mark.slow
def test_best_checkpoint_is_the_lowest_five_epoch_average(trained_synthetic):
    cfg, _ = trained_synthetic
    records = _val_records(cfg.work_dir)
    losses = [r['val/loss'] for r in records]
    averages = [np.mean(losses[max(0, i - 4):i + 1]) for i in range(len(losses))]
    assert len(losses) == 20
    assert [r['val/loss_ma5'] for r in records] == pytest.approx(averages)
    best = glob.glob(osp.join(cfg.work_dir, 'best_val_loss_ma5_epoch_*.pth'))
    assert [osp.basename(p) for p in best] == [f'best_val_loss_ma5_epoch_{int(np.argmin(averages)) + 1}.pth']


@pytest.mark.slow
def test_extract_features_tool(trained_synthetic, distill_corpus, tmp_path, one_thread):
    import shutil

    from mmaction.registry import DATASETS
    from vpd_mm.corpus import Corpus
    from vpd_mm.datasets.transforms import MirrorCropAndTarget
    cfg, _ = trained_synthetic
    checkpoint = glob.glob(osp.join(cfg.work_dir, 'best_val_loss_ma5_epoch_*.pth'))[0]
    corpus = Corpus(str(tmp_path / 'corpus'))
    shutil.copytree(distill_corpus.root, corpus.root)
    options = ['--cfg-options', f'test_dataloader.dataset.data_root={corpus.root}']
    args = ['tools/extract_features.py', SYNTHETIC, checkpoint, '--corpus', corpus.root, '--name', '2d_vpd',
            '--batch-size', '32', *options]
    result = run_python(args, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'wrote 9 videos (450 frames, d = 26, original + mirrored), skipped 0 complete, 0 failed' in result.stdout
    assert corpus.feature_ids('features', '2d_vpd') == [f'tiny_{i:03d}' for i in range(9)]
    track = corpus.read_features('features', '2d_vpd', 'tiny_004')
    teacher = corpus.read_features('teacher', 'pose2d', 'tiny_004')
    assert track.feats.shape == (50, 2, 26) and np.array_equal(track.frames, np.arange(50))
    assert np.array_equal(track.scores, teacher.scores)  # the teacher's scores are carried over

    # the file holds F(x) of the trained student for the original and the mirrored frame (D is not used)
    from mmaction.registry import MODELS
    from mmengine.runner import load_checkpoint
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu')
    model.eval()
    val = DATASETS.build(dict(cfg.test_dataloader.dataset, data_root=corpus.root, split='all',
                              include_test=True))
    index = val.frame_keys().index(('tiny_004', 20))
    info = val.get_data_info(index)
    mirrored = val.pipeline.transforms[-1](MirrorCropAndTarget(prob=1.0)(val.pipeline.transforms[0](dict(info))))
    plain = val[index]
    with torch.no_grad():
        inputs = model.data_preprocessor(dict(inputs=[plain['inputs'], mirrored['inputs']], data_samples=None),
                                         False)['inputs']
        expected = model(inputs, mode='tensor').numpy()
    assert np.allclose(track.feats[20], expected, atol=1e-4)

    # a killed run resumes: complete files are skipped, missing ones written, temporary leftovers ignored
    for video_id in ('tiny_001', 'tiny_007'):
        os.remove(corpus.feature_path('features', '2d_vpd', video_id))
    open(corpus.path('features', '2d_vpd', '.tiny_001.npz.abcd.tmp'), 'wb').write(b'partial')
    result = run_python(args, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'wrote 2 videos (100 frames' in result.stdout and 'skipped 7 complete' in result.stdout

    # bad input: one-line errors naming the file
    missing = run_python(['tools/extract_features.py', SYNTHETIC, str(tmp_path / 'nope.pth'), '--corpus',
                          corpus.root, '--name', 'x'])
    assert missing.returncode != 0 and missing.stderr.strip() == f'error: checkpoint {tmp_path / "nope.pth"} ' \
                                                                  'does not exist'
    shutil.rmtree(corpus.path('flow', 'tiny_003'))
    broken = run_python(['tools/extract_features.py', SYNTHETIC, checkpoint, '--corpus', corpus.root, '--name',
                         'again', *options], env=ONE_THREAD)
    assert broken.returncode != 0
    assert broken.stderr.strip().splitlines()[-1] == \
        f'error: {corpus.path("flow", "tiny_003")}: folder: no complete flow (the student uses flow)'
    assert len(corpus.feature_ids('features', 'again')) == 8  # the other videos are done


def test_tools_help():
    for tool in ('tools/extract_features.py', 'benchmarks/distill_throughput.py'):
        result = run_python([tool, '--help'], timeout=120)
        assert result.returncode == 0 and 'usage:' in result.stdout, result.stderr


@pytest.mark.slow
def test_distill_throughput_runs_all_three_pipelines():
    """benchmarks/distill_throughput.py at its smallest: ours, the reference layout and the reference's own
    per-sample transforms each give a data-pipeline figure, and the ratios are printed."""
    import re
    result = run_python(['benchmarks/distill_throughput.py', '--storage', 'reference-png', '--reference-code',
                         '--batch-size', '4', '--iters', '1', '--data-iters', '2', '--warmup', '1', '--repeats', '1',
                         '--workers', '0', '1'], env=ONE_THREAD, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "collate shared_storage_collate(inputs_dtype='float16')" in out  # the config's collate, as configured
    # the process set up as the Runner sets up training: env_cfg's OpenCV threads and the config's heap thresholds
    assert 'OpenCV threads 1 (env_cfg), heap thresholds mmap 32 MiB / trim 64 MiB (MallocThresholdHook)' in out, out
    for storage in ('ours', 'reference-png', 'reference-code'):
        fps = re.search(rf'{storage}, 0 workers +data pipeline alone +([0-9.]+) frames/s', out)
        assert fps and float(fps.group(1)) > 0, out
    for reference in ('reference-png', 'reference-code'):
        assert re.search(rf'data pipeline ours / {reference} +[0-9.]+', out), out
    assert re.search(r'reference-code +[0-9.]+ in all: .*ReferenceGetItem', out), out
    ceiling = re.search(r'ceiling: ready samples, no pipeline +([0-9.]+) frames/s', out)  # with 1 worker only
    assert ceiling and float(ceiling.group(1)) > 0 and out.count('ceiling: ready samples') == 1, out
    # the one worker of the training dataloader, read from /proc after the passes: its own pages and all it maps
    memory = re.search(r'worker memory, ours, 1 workers, after training \(MiB per worker\): private (\d+), '
                       r'resident (\d+)', out)
    assert memory and 0 < int(memory.group(1)) <= int(memory.group(2)), out
    assert 'worker memory, ours, 0 workers' not in out, out


@pytest.mark.slow
def test_extract_features_of_action_frames_only(trained_synthetic, distill_corpus, tmp_path, one_thread):
    """``frames='actions'``: only the frames inside the actions' windows, the same rows as a full extraction;
    asking for every frame afterwards recomputes those files instead of taking them as complete."""
    import shutil

    from vpd_mm.corpus import Corpus
    from vpd_mm.stages import StudentExtractor
    from vpd_mm.stages.student_features import action_frames
    cfg, _ = trained_synthetic
    checkpoint = glob.glob(osp.join(cfg.work_dir, 'best_val_loss_ma5_epoch_*.pth'))[0]
    corpus = Corpus(str(tmp_path / 'corpus'))
    shutil.copytree(distill_corpus.root, corpus.root)
    cfg.test_dataloader.dataset.data_root = corpus.root
    extractor = StudentExtractor(cfg, checkpoint, device='cpu', batch_size=64)

    # the windows: this sport has no per-sport window, so each action's own [start, end)
    expected: dict[str, set] = {}
    for action in corpus.read_actions():
        expected.setdefault(action.video_id, set()).update(range(action.start, action.end))
    windows = action_frames(corpus)
    assert {v: set(f.tolist()) for v, f in windows.items()} == expected

    full = extractor.run(corpus.root, 'all_frames', progress=False, on_error='raise')
    part = extractor.run(corpus.root, 'part', progress=False, on_error='raise', frames='actions')
    assert part['errors'] == 0 and 0 < part['frames'] < full['frames']
    for video_id in corpus.feature_ids('features', 'part'):
        some = corpus.read_features('features', 'part', video_id)
        every = corpus.read_features('features', 'all_frames', video_id)
        with_flow = set(every.frames.tolist())
        assert set(some.frames.tolist()) == expected[video_id] & with_flow
        rows = np.searchsorted(every.frames, some.frames)
        assert np.allclose(some.feats, every.feats[rows], atol=1e-5)

    again = extractor.run(corpus.root, 'part', progress=False, on_error='raise', frames='actions')
    assert again['written'] == 0 and again['skipped'] == len(corpus.video_ids())
    upgraded = extractor.run(corpus.root, 'part', progress=False, on_error='raise')
    assert upgraded['written'] == len(expected) and upgraded['frames'] == sum(
        len(corpus.read_features('features', 'all_frames', v).frames) for v in expected)
    with pytest.raises(ValueError, match='frames must be one of'):
        extractor.run(corpus.root, 'part', frames='some')
