"""tools/extract_teacher.py: the 2D-joint teacher, VIPE* (mirrored = re-embedded), Diving48 inverted concat,
Concat-VPD, NaN poses; and the embedded VIPE* trained with tools/train.py and evaluated with tools/test.py."""
from __future__ import annotations

import os.path as osp
import shutil

import numpy as np
import pytest
import torch

import vpd_mm  # noqa: F401
from vpd_mm.corpus import Corpus
from vpd_mm.pose import keypoint_score, normalize_2d, pose2d_feature

from conftest import REPO, run_python

from .helpers import call_tool, tool_main

TOOL = 'tools/extract_teacher.py'
VIPE_CONFIG = osp.join(REPO, 'configs', 'vipe', 'vipe_mocap.py')


@pytest.fixture()
def corpus(tiny_corpus, tmp_path):
    """A copy of the tiny corpus' meta, tracks and pose (teacher outputs go into the copy)."""
    root = tmp_path / 'corpus'
    root.mkdir()
    shutil.copy(tiny_corpus.path('meta.json'), root / 'meta.json')
    for folder in ('tracks', 'pose'):
        shutil.copytree(tiny_corpus.path(folder), root / folder)
    return Corpus(str(root))


@pytest.fixture(scope='module')
def vipe_checkpoint(tmp_path_factory):
    """A small random VIPE* saved like tools/train.py does with configs/vipe (weights, the config text in meta and
    the data-only model description of ModelSpecHook)."""
    from mmaction.registry import MODELS
    from mmengine.config import Config
    from mmengine.runner import save_checkpoint

    from vpd_mm.engine.checkpoint import model_spec_json
    cfg = Config.fromfile(VIPE_CONFIG)
    cfg.model.hidden = 64
    cfg.model.decoder_hidden = 32
    from mmengine.registry import DefaultScope
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    path = str(tmp_path_factory.mktemp('vipe') / 'vipe.pth')
    save_checkpoint(dict(state_dict=model.state_dict(), meta=dict(cfg=cfg.pretty_text, epoch=np.int64(1),
                                                                  model_spec=model_spec_json(cfg.model))), path)
    return path, model.eval()


def _embed(model, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.embed(torch.from_numpy(x)).numpy()


def test_pose2d_teacher_equals_pose2d_feature(corpus, capsys):
    assert call_tool(TOOL, [corpus.root, '--teacher', 'pose2d']) is None
    assert 'pose2d: wrote 9 of 9 videos, 0 already complete, 0 failed' in capsys.readouterr().out
    assert corpus.feature_ids('teacher', 'pose2d') == corpus.list_ids('pose', '.npz')
    for video_id in corpus.feature_ids('teacher', 'pose2d')[:3]:
        pose = corpus.read_pose(video_id)
        track = corpus.read_features('teacher', 'pose2d', video_id)
        assert track.feats.shape == (len(pose.frames), 2, 26)
        np.testing.assert_array_equal(track.frames, pose.frames)
        np.testing.assert_array_equal(track.feats[:, 0], pose2d_feature(pose.keypoints))
        np.testing.assert_array_equal(track.feats[:, 1], normalize_2d(pose.keypoints, flip=True).reshape(-1, 26))
        np.testing.assert_allclose(track.scores, keypoint_score(pose.scores), rtol=1e-6)
    # hand check of one value: the mirrored nose x is minus the original nose x (mirror about the hip midpoint)
    np.testing.assert_allclose(track.feats[:, 1, 0], -track.feats[:, 0, 0], atol=1e-6)
    # resume: everything exists -> skipped
    assert call_tool(TOOL, [corpus.root, '--teacher', 'pose2d']) is None
    assert 'wrote 0 of 9 videos, 9 already complete' in capsys.readouterr().out


def test_nan_poses_give_nan_features_and_are_counted(corpus, capsys):
    video_id = corpus.list_ids('pose', '.npz')[0]
    pose = corpus.read_pose(video_id)
    pose.keypoints[[2, 5], 7] = np.nan   # one joint missing in two frames
    pose.scores[[2, 5], 7] = np.nan
    pose.keypoints[9] = np.nan           # no pose at all in a third
    pose.scores[9] = np.nan
    corpus.write_pose(video_id, pose)
    assert call_tool(TOOL, [corpus.root, '--teacher', 'pose2d']) is None
    out, err = capsys.readouterr()
    assert 'nan_frames 3' in out and '3 frames had an invalid (NaN) pose' in err
    track = corpus.read_features('teacher', 'pose2d', video_id)
    assert np.isnan(track.feats[[2, 5, 9]]).all() and np.isnan(track.scores[[2, 5, 9]]).all()
    good = np.setdiff1d(np.arange(len(track.frames)), [2, 5, 9])
    assert np.isfinite(track.feats[good]).all() and np.isfinite(track.scores[good]).all()


def test_vipe_teacher_mirrored_row_is_re_embedding(corpus, vipe_checkpoint, capsys):
    from vpd_mm.teachers.vipe_input import vipe_input
    path, model = vipe_checkpoint
    video_id = corpus.list_ids('pose', '.npz')[0]
    pose = corpus.read_pose(video_id)
    pose.keypoints[4, 0] = np.nan
    corpus.write_pose(video_id, pose)
    assert call_tool(TOOL, [corpus.root, '--teacher', 'vipe', '--checkpoint', path, '--device', 'cpu']) is None
    assert 'vipe: wrote 9 of 9 videos' in capsys.readouterr().out
    track = corpus.read_features('teacher', 'vipe', video_id)
    assert track.feats.shape == (len(pose.frames), 2, 64)
    ok = np.setdiff1d(np.arange(len(pose.frames)), [4])
    x = vipe_input(pose.keypoints[ok], pose.scores[ok])
    x_mirror = vipe_input(pose.keypoints[ok], pose.scores[ok], flip=True)
    np.testing.assert_allclose(track.feats[ok, 0], _embed(model, x), atol=1e-5)
    np.testing.assert_allclose(track.feats[ok, 1], _embed(model, x_mirror), atol=1e-5)
    assert not np.allclose(track.feats[ok, 1], track.feats[ok, 0], atol=1e-3)  # chiral: mirroring changes it
    # VIPE* score: mean of all 17 confidences (reference apply_vipe_model.py)
    np.testing.assert_allclose(track.scores[ok], pose.scores[ok].mean(-1), rtol=1e-6)
    assert np.isnan(track.feats[4]).all() and np.isnan(track.scores[4])

    # the Diving48 teacher: [f(pose), f(inverted pose)] -> d = 128
    assert call_tool(TOOL, [corpus.root, '--teacher', 'vipe', '--checkpoint', path, '--invert']) is None
    inv = corpus.read_features('teacher', 'vipe_inv', video_id)
    assert inv.feats.shape == (len(pose.frames), 2, 128)
    np.testing.assert_allclose(inv.feats[:, :, :64], track.feats, atol=1e-5)
    x_inv = vipe_input(pose.keypoints[ok], pose.scores[ok], invert=True)
    x_inv_mirror = vipe_input(pose.keypoints[ok], pose.scores[ok], flip=True, invert=True)
    np.testing.assert_allclose(inv.feats[ok, 0, 64:], _embed(model, x_inv), atol=1e-5)
    np.testing.assert_allclose(inv.feats[ok, 1, 64:], _embed(model, x_inv_mirror), atol=1e-5)

    # Concat-VPD-style concatenation of two teachers: d = 26 + 64, score = min of the two
    assert call_tool(TOOL, [corpus.root, '--teacher', 'pose2d']) is None
    assert call_tool(TOOL, [corpus.root, '--concat', 'pose2d', 'teacher/vipe', '--name', 'cat']) is None
    cat = corpus.read_features('teacher', 'cat', video_id)
    p2d = corpus.read_features('teacher', 'pose2d', video_id)
    assert cat.feats.shape[-1] == 90
    np.testing.assert_array_equal(cat.feats, np.concatenate([p2d.feats, track.feats], axis=-1))
    np.testing.assert_array_equal(cat.scores, np.minimum(p2d.scores, track.scores))
    # different frames: a clear error naming both files
    short = corpus.read_features('teacher', 'pose2d', video_id)
    short.frames, short.feats, short.scores = short.frames[:-1], short.feats[:-1], short.scores[:-1]
    corpus.write_features('teacher', 'pose2d', video_id, short)
    message = call_tool(TOOL, [corpus.root, '--concat', 'pose2d', 'vipe', '--name', 'cat2'])
    assert message.startswith('error: ') and 'different frames' in message
    assert corpus.feature_path('teacher', 'pose2d', video_id) in message


def test_bad_arguments(corpus, tmp_path):
    assert call_tool(TOOL, [str(tmp_path / 'nope'), '--teacher', 'pose2d']) == \
        f'error: {tmp_path / "nope"}: folder: does not exist (make one with tools/data/prepare_videos.py or a ' \
        'tools/data/prepare_<dataset>.py tool)'
    message = call_tool(TOOL, [corpus.root, '--teacher', 'vipe', '--checkpoint', str(tmp_path / 'x.pth')])
    assert message == f'error: {tmp_path / "x.pth"}: VIPE* checkpoint does not exist'
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert 'this folder is not a corpus' in call_tool(TOOL, [str(empty), '--teacher', 'pose2d'])
    shutil.copy(corpus.path('meta.json'), empty / 'meta.json')
    assert call_tool(TOOL, [str(empty), '--teacher', 'pose2d']) == (
        f'error: {empty / "pose"}: folder: no pose files (run tools/data/extract_pose.py CORPUS or '
        'tools/data/extract_pose_mediapipe.py CORPUS first)')
    result = run_python([TOOL, '--help'], timeout=60)
    assert result.returncode == 0 and '--concat' in result.stdout


@pytest.mark.slow
def test_embedded_vipe_train_test_extract(tmp_path, corpus, capsys):
    """prepare_mocap -> tools/train.py configs/vipe/vipe_mocap.py (tiny schedule) -> tools/test.py -> teacher."""
    data = str(tmp_path / 'mocap3d')
    assert call_tool('tools/data/prepare_mocap.py', ['--out', data, '--clips', 'walk', 'punch', 'jump']) is None
    roots = [f'{k}_dataloader.dataset.data_root={data}' for k in ('train', 'val', 'test')]
    work = str(tmp_path / 'work')
    assert call_tool('tools/train.py', [VIPE_CONFIG, '--work-dir', work, '--seed', '0', '--cfg-options', *roots,
                                        'train_dataloader.dataset.samples_per_epoch=200',
                                        'train_dataloader.batch_size=50', 'train_cfg.max_epochs=2',
                                        'train_cfg.val_interval=1', 'param_scheduler.0.end=2']) is None
    checkpoint = osp.join(work, 'epoch_2.pth')
    assert osp.isfile(checkpoint)
    metrics = tool_main('tools/test.py')([VIPE_CONFIG, checkpoint, '--work-dir', work, '--cfg-options', *roots])
    assert metrics['view_retrieval/num_samples'] == 53  # the held-out clip (jump: 53 frames at 30 fps)
    assert 0.0 <= metrics['view_retrieval/hit1'] <= 1.0 and 0.0 <= metrics['view_retrieval/hit1_pose2d'] <= 1.0
    # the trained checkpoint (model rebuilt from its data-only meta['model_spec']) as the teacher of a corpus
    capsys.readouterr()
    assert call_tool(TOOL, [corpus.root, '--teacher', 'vipe', '--checkpoint', checkpoint]) is None
    assert 'wrote 9 of 9 videos' in capsys.readouterr().out
    video_id = corpus.list_ids('pose', '.npz')[0]
    track = corpus.read_features('teacher', 'vipe', video_id)
    assert track.feats.shape[1:] == (2, 64) and np.isfinite(track.feats).all()
