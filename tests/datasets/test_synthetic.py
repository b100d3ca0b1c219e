"""The tiny synthetic corpus: deterministic, the advertised sizes and splits, decodable videos that show the
figure where the pose says, and a stick figure whose motions match their class."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from vpd_mm.corpus.corpus import Corpus
from vpd_mm.testing import TINY_CLASSES, TinyCorpusSpec, figure_pose, make_tiny_corpus

L_SHOULDER, R_SHOULDER, L_HIP, R_HIP = 5, 6, 11, 12


def _npz_arrays(path: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


# ---------------------------------------------------------------------------------------------------- determinism
def test_same_seed_identical_files(tiny_corpus, tmp_path):
    again = make_tiny_corpus(str(tmp_path / 'again'), seed=0)
    assert again.video_ids() == tiny_corpus.video_ids()
    for video_id in tiny_corpus.video_ids():
        a = _npz_arrays(tiny_corpus.path('pose', video_id + '.npz'))
        b = _npz_arrays(again.path('pose', video_id + '.npz'))
        assert a.keys() == b.keys()
        for name in a:
            assert a[name].dtype == b[name].dtype
            np.testing.assert_array_equal(a[name], b[name])
        for rel in (('tracks', video_id + '.json'),):
            assert open(tiny_corpus.path(*rel), 'rb').read() == open(again.path(*rel), 'rb').read()
    for rel in (('annotations', 'actions.json'), ('meta.json',)):
        assert json.load(open(tiny_corpus.path(*rel))) == json.load(open(again.path(*rel)))
        assert open(tiny_corpus.path(*rel), 'rb').read() == open(again.path(*rel), 'rb').read()


def test_different_seed_different_poses(tiny_corpus, tmp_path):
    other = make_tiny_corpus(str(tmp_path / 'other'), seed=1)
    assert other.read_meta().extra['seed'] == 1 and tiny_corpus.read_meta().extra['seed'] == 0
    a, b = tiny_corpus.read_pose('tiny_000'), other.read_pose('tiny_000')
    assert a.keypoints.shape == b.keypoints.shape
    # different placement: the joints move by pixels, not by noise
    assert np.abs(a.keypoints - b.keypoints).mean() > 2.0
    assert not np.array_equal(tiny_corpus.read_track('tiny_000').boxes, other.read_track('tiny_000').boxes)


# ---------------------------------------------------------------------------------------------------- layout
def test_default_spec_sizes_and_splits(tiny_corpus):
    spec = TinyCorpusSpec()
    assert (spec.num_videos, spec.num_frames, spec.width, spec.height) == (9, 50, 160, 120)
    meta = tiny_corpus.read_meta()
    assert meta.classes == list(TINY_CLASSES) == ['jump', 'wave', 'spin']
    assert meta.sport == 'synthetic' and meta.fps == 25.0
    assert meta.extra['width'] == 160 and meta.extra['height'] == 120
    ids = [f'tiny_{v:03d}' for v in range(9)]
    assert tiny_corpus.video_ids() == ids
    assert tiny_corpus.list_ids('pose', '.npz') == ids
    assert sorted(os.listdir(tiny_corpus.path('videos'))) == [i + '.mp4' for i in ids]

    actions = tiny_corpus.read_actions()
    assert len(actions) == 18
    assert len({a.id for a in actions}) == 18
    train, val, test = (tiny_corpus.read_actions(split=s) for s in ('train', 'val', 'test'))
    assert (len(train), len(val), len(test)) == (10, 4, 4)
    assert sorted({a.video_id for a in train}) == ids[:5]
    assert sorted({a.video_id for a in val}) == ids[5:7]
    assert sorted({a.video_id for a in test}) == ids[7:]
    assert {a.label for a in train} == set(TINY_CLASSES)
    for split in (val, test):
        assert {a.label for a in split} <= set(TINY_CLASSES)


def test_actions_two_per_video_within_bounds(tiny_corpus):
    by_video: dict[str, list] = {}
    for action in tiny_corpus.read_actions():
        by_video.setdefault(action.video_id, []).append(action)
    assert len(by_video) == 9
    for v, video_id in enumerate(sorted(by_video)):
        first, second = by_video[video_id]
        assert [first.id, second.id] == [f'{video_id}_0', f'{video_id}_1']
        assert first.end - first.start == second.end - second.start == 16
        assert 1 <= first.start and first.end < second.start and second.end <= 50
        # labels cycle through the classes
        assert [first.label, second.label] == [TINY_CLASSES[v % 3], TINY_CLASSES[(v + 1) % 3]]


# ---------------------------------------------------------------------------------------------------- videos
def test_videos_decode_and_show_the_figure(tiny_corpus):
    import decord

    for video_id in tiny_corpus.video_ids():
        reader = decord.VideoReader(tiny_corpus.video_path(video_id))
        assert len(reader) == TinyCorpusSpec().num_frames == 50
        frame = reader[0].asnumpy()
        assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8
        gray = frame.astype(np.float64).sum(axis=-1)  # channel order does not matter for a sum
        background = np.median(gray)
        kp = tiny_corpus.read_pose(video_id).keypoints[0]

        # the hip bone: its midpoint is dark (the figure colour is 0..80 per channel, so a sum <= 240)
        x, y = np.round((kp[L_HIP] + kp[R_HIP]) / 2).astype(int)
        assert gray[y - 2:y + 3, x - 2:x + 3].min() < background - 100, video_id
        # along the left shoulder - left hip bone (interior points)
        t = np.linspace(0.2, 0.8, 7)[:, None]
        pts = np.round(kp[L_SHOULDER] * (1 - t) + kp[L_HIP] * t).astype(int)
        assert gray[pts[:, 1], pts[:, 0]].mean() < background - 100, video_id
        # 25 px beside the hips (frame 0 is idle: arms end 14 px out, 16 px above the hips) is background
        for dx in (-25, 25):
            assert abs(gray[y, x + dx] - background) < 60, (video_id, dx)


# ---------------------------------------------------------------------------------------------------- pose / tracks
def test_low_confidence_frames(tiny_corpus):
    for video_id, pose in tiny_corpus.iter_pose():
        low = np.zeros(50, bool)
        low[::7] = True
        assert low.sum() == 8  # frames 0, 7, ..., 49
        np.testing.assert_array_equal(pose.scores[low], np.full((8, 17), 0.3, np.float32))
        others = pose.scores[~low]
        assert others.min() > 0.75 and others.max() <= 1.0, video_id
        assert abs(others.mean() - 0.9) < 0.01, video_id


def test_pose_frames_and_finite_joints_inside_image(tiny_corpus):
    for video_id, pose in tiny_corpus.iter_pose():
        np.testing.assert_array_equal(pose.frames, np.arange(50))
        assert np.isfinite(pose.keypoints).all()
        assert (pose.keypoints[..., 0] >= 0).all() and (pose.keypoints[..., 0] < 160).all(), video_id
        assert (pose.keypoints[..., 1] >= 0).all() and (pose.keypoints[..., 1] < 120).all(), video_id


def test_track_boxes_contain_all_joints(tiny_corpus):
    for video_id in tiny_corpus.video_ids():
        track, pose = tiny_corpus.read_track(video_id), tiny_corpus.read_pose(video_id)
        np.testing.assert_array_equal(track.frames, pose.frames)
        x, y, w, h = track.boxes.T[:, :, None]
        kx, ky = pose.keypoints[..., 0], pose.keypoints[..., 1]
        assert (kx >= x).all() and (kx <= x + w).all(), video_id
        assert (ky >= y).all() and (ky <= y + h).all(), video_id
        # the box is tight up to the 6 px padding (plus the 0.5 px joint noise)
        assert np.abs(kx.min(axis=1) - x[:, 0] - 6).max() < 3 and np.abs(ky.max(axis=1) - (y + h)[:, 0] + 6).max() < 3
        np.testing.assert_allclose(pose.boxes, track.boxes, atol=1e-3)


def test_pose_motion_matches_labels(tiny_corpus):
    """Jumps lift the hips by about 20 px * scale; spins swap the shoulders' left/right order."""
    for action in tiny_corpus.read_actions():
        kp = tiny_corpus.read_pose(action.video_id).keypoints
        start, mid = action.start, action.start + 7  # phase 7/15, near the middle
        hip_y = (kp[:, L_HIP, 1] + kp[:, R_HIP, 1]) / 2
        width = kp[:, L_SHOULDER, 0] - kp[:, R_SHOULDER, 0]  # left shoulder on the image's right at rest
        assert width[start] > 10, action.id
        if action.label == 'jump':
            # 20 * sin(7 pi / 15) * scale, scale in [0.8, 1]; noise 0.5 px
            assert 14 < hip_y[start] - hip_y[mid] < 22, action.id
        else:
            assert abs(hip_y[start] - hip_y[mid]) < 3.5, action.id  # the figure drifts but stays level
        if action.label == 'spin':
            assert width[mid] < -10, action.id
        else:
            assert width[mid] > 10, action.id


# ---------------------------------------------------------------------------------------------------- figure_pose
def test_figure_pose_rest():
    rest = figure_pose(None, 0.0)
    assert rest.shape == (17, 2) and rest.dtype == np.float64
    np.testing.assert_array_equal(rest[[L_HIP, R_HIP]], [[5, 0], [-5, 0]])  # hip midpoint at the origin
    np.testing.assert_array_equal(figure_pose(None, 0.7, scale=2.0), 2.0 * rest)
    assert rest[:, 1].min() == -52 and rest[:, 1].max() == 32  # eyes to ankles: y down


def test_figure_pose_spin_mirrors_at_half_turn():
    rest = figure_pose(None, 0.0)
    half = figure_pose('spin', 0.5)
    assert half[L_SHOULDER, 0] < 0 < half[R_SHOULDER, 0]
    assert rest[R_SHOULDER, 0] < 0 < rest[L_SHOULDER, 0]
    np.testing.assert_allclose(half[:, 0], -rest[:, 0], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(half[:, 1], rest[:, 1])
    np.testing.assert_allclose(figure_pose('spin', 1.0), rest, rtol=0, atol=1e-9)  # full turn
    np.testing.assert_allclose(figure_pose('spin', 0.25)[:, 0], 0, atol=1e-9)  # side-on


def test_figure_pose_jump_lifts_hips():
    rest = figure_pose(None, 0.0)
    for scale in (1.0, 0.85):
        top = figure_pose('jump', 0.5, scale)
        np.testing.assert_allclose(top[[L_HIP, R_HIP], 1], rest[[L_HIP, R_HIP], 1] * scale - 20 * scale,
                                   rtol=0, atol=1e-9)
    np.testing.assert_allclose(figure_pose('jump', 0.5)[[L_HIP, R_HIP], 1], [-20, -20], atol=1e-9)
    # take-off (phase 0): still on the ground
    np.testing.assert_allclose(figure_pose('jump', 0.0)[:, 1], rest[:, 1], atol=1e-9)


def test_figure_pose_wave_raises_right_wrist():
    rest = figure_pose(None, 0.0)
    wave = figure_pose('wave', 0.5)
    np.testing.assert_allclose(wave[10], [-14, -66], atol=1e-9)  # swing sin(2 pi) = 0, raise 1
    assert wave[10, 1] < wave[0, 1]  # wrist above the nose
    np.testing.assert_array_equal(np.delete(wave, [8, 10], axis=0), np.delete(rest, [8, 10], axis=0))


def test_figure_pose_unknown_class():
    with pytest.raises(ValueError, match="'cartwheel'"):
        figure_pose('cartwheel', 0.5)


# ---------------------------------------------------------------------------------------------------- spec
def test_spec_validation(tmp_path):
    with pytest.raises(ValueError, match='at least 5 videos'):
        make_tiny_corpus(str(tmp_path / 'a'), spec=TinyCorpusSpec(num_videos=4))
    with pytest.raises(ValueError, match='two actions'):
        make_tiny_corpus(str(tmp_path / 'b'), spec=TinyCorpusSpec(num_frames=35, action_len=16))


def test_small_custom_spec(tmp_path):
    spec = TinyCorpusSpec(num_videos=5, num_frames=24, width=96, height=80, action_len=10, low_score_every=5)
    corpus = make_tiny_corpus(str(tmp_path), seed=4, spec=spec)
    assert isinstance(corpus, Corpus)
    assert corpus.video_ids() == [f'tiny_{v:03d}' for v in range(5)]
    counts = {s: len(corpus.read_actions(split=s)) for s in ('train', 'val', 'test')}
    assert counts == {'train': 2, 'val': 4, 'test': 4}
    for action in corpus.read_actions():
        assert action.end - action.start == 10 and 1 <= action.start and action.end <= 24
    pose = corpus.read_pose('tiny_004')
    assert pose.keypoints.shape == (24, 17, 2)
    np.testing.assert_array_equal(pose.scores[::5], np.full((5, 17), 0.3, np.float32))
    assert corpus.read_meta().extra == dict(width=96, height=80, seed=4,
                                            video_frames={f'tiny_{v:03d}': 24 for v in range(5)})
