"""tools/data/extract_pose.py: mmpose top-down on the tracked box of every frame of the tiny corpus, with a small
randomly initialised model built from the HRNet config (ResNet-18-like backbone at 64x48)."""
from __future__ import annotations

import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch

from conftest import run_python

from .helpers import call_tool

TOOL = 'tools/data/extract_pose.py'


def _tiny_topdown_config(path: str) -> str:
    from mmengine.config import Config

    from vpd_mm.stages.pose_mmpose import mmpose_config_path
    cfg = Config.fromfile(mmpose_config_path(None))
    codec = dict(type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=1)
    cfg.model.backbone = dict(type='ResNet', depth=18, stem_channels=8, base_channels=8, num_stages=2,
                              strides=(1, 2), dilations=(1, 1), out_indices=(1,))
    cfg.model.head = dict(type='HeatmapHead', in_channels=16, out_channels=17, deconv_out_channels=(16,),
                          deconv_kernel_sizes=(4,), loss=dict(type='KeypointMSELoss', use_target_weight=True),
                          decoder=codec)
    cfg.codec = codec
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'TopdownAffine':
            step['input_size'] = codec['input_size']
    cfg.val_dataloader = cfg.test_dataloader
    cfg.dump(path)
    return path


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    """(config, checkpoint) of a random-init tiny top-down model, saved in mmengine's checkpoint format."""
    import vpd_mm  # noqa: F401
    from mmengine.runner import save_checkpoint
    from mmpose.apis import init_model
    folder = tmp_path_factory.mktemp('tiny_topdown')
    config = _tiny_topdown_config(str(folder / 'tiny_topdown.py'))
    torch.manual_seed(0)
    model = init_model(config, checkpoint=None, device='cpu')
    checkpoint = str(folder / 'tiny.pth')
    save_checkpoint(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=model.dataset_meta)), checkpoint)
    return config, checkpoint


@pytest.fixture()
def corpus_copy(tiny_corpus, tmp_path):
    """The tiny corpus without its pose/ folder (videos symlinked)."""
    root = tmp_path / 'corpus'
    root.mkdir()
    shutil.copy(tiny_corpus.path('meta.json'), root / 'meta.json')
    shutil.copytree(tiny_corpus.path('tracks'), root / 'tracks')
    os.symlink(tiny_corpus.path('videos'), root / 'videos')
    from vpd_mm.corpus import Corpus
    return Corpus(str(root))


def test_help():
    result = run_python([TOOL, '--help'], timeout=120)
    assert result.returncode == 0 and 'mmpose top-down' in result.stdout


@pytest.mark.slow
def test_extract_pose_tiny_corpus_matches_inference_topdown_and_resumes(tiny_model, corpus_copy, capsys):
    import decord
    from mmpose.apis import inference_topdown, init_model
    config, checkpoint = tiny_model
    # make one frame a "no detection" (zero-area box)
    video0 = corpus_copy.video_ids()[0]
    track0 = corpus_copy.read_track(video0)
    track0.boxes[3, 2] = 0.0
    corpus_copy.write_track(video0, track0)

    assert call_tool(TOOL, [corpus_copy.root, '--config', config, '--checkpoint', checkpoint,
                            '--device', 'cpu', '--batch-size', '16']) is None
    out, err = capsys.readouterr()
    assert 'wrote 9 of 9 videos' in out and 'no_detection 1' in out
    assert '1 frames had no detection' in err
    ids = corpus_copy.list_ids('pose', '.npz')
    assert ids == corpus_copy.video_ids()

    model = init_model(config, checkpoint=checkpoint, device='cpu')
    for video_id in (video0, ids[-1]):
        pose = corpus_copy.read_pose(video_id)
        track = corpus_copy.read_track(video_id)
        np.testing.assert_array_equal(pose.frames, track.frames)
        np.testing.assert_array_equal(pose.boxes, track.boxes)
        reader = decord.VideoReader(corpus_copy.video_path(video_id))
        for row in (0, 3, len(pose.frames) - 1):
            x, y, w, h = track.boxes[row]
            if w == 0:
                assert np.isnan(pose.keypoints[row]).all() and np.isnan(pose.scores[row]).all()
                continue
            frame = reader[int(track.frames[row])].asnumpy()[..., ::-1]
            ref = inference_topdown(model, np.ascontiguousarray(frame), np.array([[x, y, x + w, y + h]]))[0]
            np.testing.assert_allclose(pose.keypoints[row], ref.pred_instances.keypoints[0], atol=1e-3)
            np.testing.assert_allclose(pose.scores[row], np.clip(ref.pred_instances.keypoint_scores[0], 0, 1),
                                       atol=1e-5)
            assert np.isfinite(pose.keypoints[row]).all()
            assert ((pose.scores[row] >= 0) & (pose.scores[row] <= 1)).all()

    # resume: complete videos are skipped and left untouched; a deleted one is recomputed
    kept = corpus_copy.path('pose', ids[1] + '.npz')
    mtime = os.stat(kept).st_mtime_ns
    os.remove(corpus_copy.path('pose', ids[2] + '.npz'))
    assert call_tool(TOOL, [corpus_copy.root, '--config', config, '--checkpoint', checkpoint,
                            '--device', 'cpu']) is None
    assert 'wrote 1 of 9 videos, 8 already complete' in capsys.readouterr().out
    assert os.stat(kept).st_mtime_ns == mtime
    assert osp.exists(corpus_copy.path('pose', ids[2] + '.npz'))


def test_missing_checkpoint_names_model_and_url(tmp_path, corpus_copy):
    message = call_tool(TOOL, [corpus_copy.root, '--checkpoint', str(tmp_path / 'hrnet.pth')])
    assert message.startswith(f'error: {tmp_path / "hrnet.pth"}: checkpoint does not exist')
    assert 'td-hm_hrnet-w32_8xb64-210e_coco-256x192' in message
    assert ('https://download.openmmlab.com/mmpose/v1/body_2d_keypoint/topdown_heatmap/coco/'
            'td-hm_hrnet-w32_8xb64-210e_coco-256x192-81c58e40_20220909.pth') in message
    assert len(message.splitlines()) == 1


def test_published_weights_lookup():
    from vpd_mm.stages.pose_mmpose import DEFAULT_POSE_CONFIG, published_weights
    name, url = published_weights(DEFAULT_POSE_CONFIG)
    assert name == 'td-hm_hrnet-w32_8xb64-210e_coco-256x192'
    assert url.endswith('td-hm_hrnet-w32_8xb64-210e_coco-256x192-81c58e40_20220909.pth')
    assert published_weights(__file__) is None  # a config outside the wheel has no published weights


def test_track_beyond_video_end_is_an_error(tiny_model, corpus_copy):
    config, checkpoint = tiny_model
    video0 = corpus_copy.video_ids()[0]
    track = corpus_copy.read_track(video0)
    track.frames[-1] = 10_000
    corpus_copy.write_track(video0, track)
    message = call_tool(TOOL, [corpus_copy.root, '--config', config, '--checkpoint', checkpoint, '--device', 'cpu'])
    assert message.startswith('error: ') and 'beyond the video end' in message and video0 in message
