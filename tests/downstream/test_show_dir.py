"""``tools/test.py --show-dir``: VPDVisualizationHook draws test samples of the sequence models (BiGRU recognizer,
per-frame BiGRU detector) on their corpus videos, with the ground truth and the prediction."""
from __future__ import annotations

import glob
import os
import os.path as osp
import uuid

import cv2
import numpy as np
import pytest
from conftest import REPO, run_python

from downstream.conftest import ONE_THREAD, SYNTH_DETECTION, SYNTH_RECOGNITION, load_tool, loader_options, read_json

# the pictures of these tests: video frames (160 x 120 in the tiny corpus) scaled to HEIGHT, beside them the crop and
# flow column (HEIGHT / 2 wide), under them one 48-pixel strip (recognition) or two (detection: gt and pred);
# PANELS frames in COLUMNS columns
HEIGHT, PANELS, COLUMNS = 120, 4, 2
PANEL_W = 160 * HEIGHT // 120 + HEIGHT // 2
RECOGNITION_SHEET = (2 * (HEIGHT + 48), COLUMNS * PANEL_W)
DETECTION_SHEET = (2 * (HEIGHT + 2 * 48), COLUMNS * PANEL_W)


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """Seeded, untrained recognizer and detector of the synthetic configs, saved as mmengine's Runner saves them."""
    import torch
    from mmaction.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import vpd_mm  # noqa: F401  (registration)
    folder = tmp_path_factory.mktemp('show_dir_checkpoints')
    paths = {}
    for kind, config in (('recognition', SYNTH_RECOGNITION), ('detection', SYNTH_DETECTION)):
        torch.manual_seed(0)
        with DefaultScope.overwrite_default_scope('mmaction'):
            model = MODELS.build(Config.fromfile(osp.join(REPO, config)).model)
        paths[kind] = str(folder / f'{kind}.pth')
        torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), paths[kind])
    return paths


def hook_config(config: str, root: str, checkpoint: str, work_dir: str, **hook):
    """``config`` on the corpus ``root``, testing ``checkpoint``, with the visualization hook turned on."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
    cfg.work_dir, cfg.load_from = work_dir, checkpoint
    # mmengine names the runner's visualizer and logger <config>_<timestamp>, to the second; a second runner in the
    # same second would get the first one's visualizer (and its save_dir), so each test runner gets its own name
    cfg.experiment_name = f'show_dir_{uuid.uuid4().hex}'
    cfg.default_hooks.visualization = dict(type='VPDVisualizationHook', enable=True, height=HEIGHT, panels=PANELS,
                                           columns=COLUMNS, **hook)
    return cfg


def run_test(cfg):
    """Test in-process; returns the runner, the hook and the metrics."""
    from mmengine.runner import Runner

    from vpd_mm.apis.visualization_hook import VPDVisualizationHook
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    hooks = [h for h in runner.hooks if isinstance(h, VPDVisualizationHook)]
    assert len(hooks) == 1
    return runner, hooks[0], metrics


def read_log(work_dir: str) -> str:
    logs = glob.glob(osp.join(work_dir, '*', '*.log'))
    assert len(logs) == 1, logs
    with open(logs[0]) as f:
        return f.read()


def test_recognition_samples_are_drawn_with_ground_truth_and_prediction(pose2d_corpus, checkpoints, tmp_path):
    out, dump, work = tmp_path / 'show', tmp_path / 'pred.json', str(tmp_path / 'work')
    cfg = hook_config(SYNTH_RECOGNITION, pose2d_corpus.root, checkpoints['recognition'], work, out_dir=str(out),
                      max_samples=3)
    cfg.test_evaluator = [cfg.test_evaluator, dict(type='DumpPredictionsJSON', out_file=str(dump))]
    _, hook, _ = run_test(cfg)

    index = read_json(str(out / 'index.json'))
    assert index['drawn'] == 3 and index['no_video'] == 0 and hook.no_video == 0  # 4 test actions, at most 3
    assert index['samples'] == hook.records
    assert sorted(os.listdir(out)) == sorted([f'{r["action_id"]}.png' for r in hook.records] + ['index.json'])
    actions = {a.id: a for a in pose2d_corpus.read_actions() if a.split == 'test'}
    classes = pose2d_corpus.read_meta().classes
    predictions = read_json(str(dump))  # the same test order as the hook's records
    for record, prediction in zip(hook.records, predictions):
        action = actions[record['action_id']]
        assert record['kind'] == 'recognition' and record['video_id'] == action.video_id
        assert record['file'] == str(out / f'{action.id}.png')
        image = cv2.imread(record['file'])
        assert image.shape == (*RECOGNITION_SHEET, 3) and tuple(record['image_size']) == RECOGNITION_SHEET
        assert image[:HEIGHT, :160 * HEIGHT // 120].std() > 5  # a video frame, not a blank panel
        assert record['has_video'] and record['reason'] is None
        assert len(record['frames']) == PANELS and all(action.start <= f < action.end for f in record['frames'])
        assert record['gt_label'] == action.label and record['gt_index'] == classes.index(action.label)
        pred = int(np.ravel(prediction['pred_label'])[0])
        assert record['pred_index'] == pred and record['pred_label'] == classes[pred]
        assert record['pred_score'] == pytest.approx(max(prediction['pred_score']), abs=1e-6)
        assert record['correct'] == (record['gt_label'] == record['pred_label'])
    assert 'VPDVisualizationHook: drew 3 of 4 test samples into' in read_log(work)


def test_detection_windows_are_drawn_with_frame_labels_over_time(pose2d_corpus, checkpoints, tmp_path):
    from vpd_mm.apis.visualization_hook import label_runs
    out, work = tmp_path / 'show', str(tmp_path / 'work')
    cfg = hook_config(SYNTH_DETECTION, pose2d_corpus.root, checkpoints['detection'], work, out_dir=str(out),
                      interval=2, max_samples=None)
    runner, hook, _ = run_test(cfg)

    dataset = runner.test_dataloader.dataset
    expected = [dataset.get_data_info(i) for i in range(0, len(dataset), 2)]  # every 2nd window (tile)
    assert len(hook.records) == len(expected) == 4 and hook.no_video == 0
    for record, info in zip(hook.records, expected):
        start, view = info['start'], info['views'][0]
        end = start + len(info['frame_labels'])
        assert record['kind'] == 'detection' and (record['video_id'], record['start'], record['end'],
                                                  record['view']) == (info['video_id'], start, end, view)
        assert record['file'] == str(out / f'{info["video_id"]}_{start:06d}-{end:06d}_view{view}.png')
        assert cv2.imread(record['file']).shape == (*DETECTION_SHEET, 3)
        assert all(start <= f < end for f in record['frames']) and record['has_video']
        # ground truth and prediction over time: the frames of their segments
        truth = {start + f for f in np.flatnonzero(info['frame_labels'])}
        assert {f for a, b in record['gt_segments'] for f in range(a, b)} == truth
        assert record['gt_frames'] == len(truth)
        assert record['pred_frames'] == sum(b - a for a, b in record['pred_segments'])
        assert record['threshold'] == cfg.detection_threshold and 0 <= record['mean_score'] <= 1
    assert read_json(str(out / 'index.json'))['samples'] == hook.records
    assert label_runs(np.array([0, 1, 1, 0, 1])) == [(1, 3), (4, 5)] and label_runs(np.zeros(3)) == []


def test_samples_without_a_video_get_label_only_panels(corpus_copy, checkpoints, tmp_path):
    out, work = tmp_path / 'show', str(tmp_path / 'work')  # corpus_copy has no videos/
    cfg = hook_config(SYNTH_RECOGNITION, corpus_copy.root, checkpoints['recognition'], work, out_dir=str(out),
                      max_samples=2)
    _, hook, metrics = run_test(cfg)

    assert 'acc/top1' in metrics  # testing went on
    assert len(hook.records) == 2 and hook.no_video == 2
    for record in hook.records:
        assert not record['has_video'] and 'no video' in record['reason'] and record['frames'] == []
        assert record['pred_label'] in corpus_copy.read_meta().classes
        assert cv2.imread(record['file']).shape == (HEIGHT + 48, 4 * HEIGHT // 3 + HEIGHT // 2, 3)
    assert read_json(str(out / 'index.json'))['no_video'] == 2
    assert '(2 without a readable video: label-only panels)' in read_log(work)


def test_show_without_show_dir_uses_the_visualizer(pose2d_corpus, checkpoints, tmp_path, monkeypatch):
    from mmengine.visualization import Visualizer
    shown = []
    monkeypatch.setattr(Visualizer, 'show', lambda self, image, win_name='image', wait_time=0, **kw:
                        shown.append((win_name, image.shape[:2], wait_time)))
    work = str(tmp_path / 'work')
    cfg = hook_config(SYNTH_RECOGNITION, pose2d_corpus.root, checkpoints['recognition'], work, show=True,
                      wait_time=0.5, max_samples=2)
    _, hook, _ = run_test(cfg)

    assert [name for name, _, _ in shown] == [r['name'] for r in hook.records] and len(shown) == 2
    assert all(size == RECOGNITION_SHEET and wait == 0.5 for _, size, wait in shown)
    assert all(r['file'] is None for r in hook.records)  # no out_dir: the visualizer's backends store them
    saved = glob.glob(osp.join(work, '*', 'vis_data', 'vis_image', '*.png'))
    assert sorted(osp.basename(p) for p in saved) == sorted(f'{r["name"]}_0.png' for r in hook.records)


def test_test_tool_show_dir_turns_on_the_hook(tmp_path):
    from mmaction.registry import HOOKS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from vpd_mm.apis.visualization_hook import VPDVisualizationHook
    tool = load_tool('test')
    config = osp.join(REPO, SYNTH_RECOGNITION)
    cfg = Config.fromfile(config)
    tool.merge_args(cfg, tool.parse_args([config, 'x.pth']))
    assert 'visualization' not in cfg.default_hooks  # off unless asked for

    show_dir = str(tmp_path / 'vis')
    tool.merge_args(cfg, tool.parse_args([config, 'x.pth', '--show-dir', show_dir, '--interval', '3']))
    assert cfg.default_hooks.visualization == dict(type='mmaction.VPDVisualizationHook', enable=True, show=False,
                                                   wait_time=2, out_dir=show_dir, interval=3)
    with DefaultScope.overwrite_default_scope('mmaction'):
        hook = HOOKS.build(cfg.default_hooks.visualization)
    assert isinstance(hook, VPDVisualizationHook) and hook.enable and hook.out_dir == show_dir
    assert hook.interval == 3 and hook.max_samples == 20

    # a config's own visualization hook (e.g. mmaction2's, for a frame-based model) keeps its type
    cfg = Config.fromfile(config)
    cfg.default_hooks.visualization = dict(type='VisualizationHook')
    tool.merge_args(cfg, tool.parse_args([config, 'x.pth', '--show', '--wait-time', '1']))
    assert cfg.default_hooks.visualization == dict(type='VisualizationHook', enable=True, show=True,
                                                   wait_time=1, out_dir=None, interval=1)

    checkpoint = tmp_path / 'x.pth'
    checkpoint.write_bytes(b'')
    with pytest.raises(SystemExit, match=r'^error: --interval must be at least 1, got 0$'):
        tool.main([config, str(checkpoint), '--show-dir', show_dir, '--interval', '0'])
    (tmp_path / 'file').write_text('')
    with pytest.raises(SystemExit, match=r'^error: --show-dir .*file exists and is not a folder$'):
        tool.main([config, str(checkpoint), '--show-dir', str(tmp_path / 'file')])


@pytest.mark.slow
def test_test_tool_show_dir_end_to_end(pose2d_corpus, checkpoints, tmp_path):
    out, dump = tmp_path / 'vis', tmp_path / 'pred.json'
    result = run_python(['tools/test.py', SYNTH_RECOGNITION, checkpoints['recognition'], '--work-dir',
                         str(tmp_path / 'work'), '--dump', str(dump), '--show-dir', str(out),
                         *loader_options(pose2d_corpus.root)], env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f'VPDVisualizationHook: drew 4 of 4 test samples into {out}' in result.stdout + result.stderr
    index = read_json(str(out / 'index.json'))
    predictions = read_json(str(dump))
    assert [r['pred_index'] for r in index['samples']] == [int(np.ravel(p['pred_label'])[0]) for p in predictions]
    for record in index['samples']:  # the default size: 240-pixel frames, 8 panels in 4 columns
        assert cv2.imread(record['file']).shape == (2 * (240 + 48), 4 * (320 + 120), 3)
        assert record['has_video'] and len(record['frames']) == 8
