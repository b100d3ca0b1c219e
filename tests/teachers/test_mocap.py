"""DeepMimic clips -> COCO-17 3D joints by forward kinematics of pybullet's humanoid (vpd_mm.mocap);
tools/data/prepare_mocap.py."""
from __future__ import annotations

import json

import numpy as np
import pytest

from vpd_mm.mocap import (HUMANOID_SCALE, VIPE_HELDOUT_CLIPS, VIPE_TRAIN_CLIPS, DeepMimicHumanoid, HumanoidPose,
                          deepmimic_clip_paths, interpolate_motion, load_deepmimic_clip, read_deepmimic_motion)

from .helpers import call_tool

LIMBS = {'thigh': (11, 13), 'shin': (13, 15), 'upper_arm': (5, 7), 'forearm': (7, 9)}


def test_clip_paths_are_the_15_deepmimic_clips():
    paths = deepmimic_clip_paths()
    assert len(paths) == 15
    assert set(paths) == set(VIPE_TRAIN_CLIPS) | set(VIPE_HELDOUT_CLIPS)
    assert not set(VIPE_TRAIN_CLIPS) & set(VIPE_HELDOUT_CLIPS)
    assert paths['walk'].endswith('pybullet_data/data/motions/humanoid3d_walk.txt')


@pytest.mark.parametrize('clip', ['walk', 'backflip', 'roll'])
def test_forward_kinematics_gives_rigid_plausible_bones(clip):
    path = deepmimic_clip_paths()[clip]
    joints, fps = load_deepmimic_clip(path)
    motion = read_deepmimic_motion(path)
    assert joints.shape[1:] == (17, 3) and joints.dtype == np.float64
    assert fps == pytest.approx(motion.native_fps)
    for a, b in list(LIMBS.values()) + [(12, 14), (14, 16), (6, 8), (8, 10), (11, 12), (5, 6)]:
        length = np.linalg.norm(joints[:, a] - joints[:, b], axis=-1)
        assert length.max() - length.min() < 1e-6, (a, b)   # rigid links: constant over time
    # human-sized: URDF link offsets x 0.25 (thigh 1.686, shin 1.639, upper arm 1.099, forearm 1.036 units)
    expected = {'thigh': 0.4215, 'shin': 0.4099, 'upper_arm': 0.2748, 'forearm': 0.2589}
    for name, (a, b) in LIMBS.items():
        assert np.linalg.norm(joints[0, a] - joints[0, b]) == pytest.approx(expected[name], abs=2e-4), name
    # left and right limbs have equal lengths; hips 17 cm apart
    assert np.linalg.norm(joints[0, 12] - joints[0, 14]) == pytest.approx(expected['thigh'], abs=2e-4)
    assert np.linalg.norm(joints[0, 11] - joints[0, 12]) == pytest.approx(2 * 0.339548 * 0.25, abs=1e-5)


def test_keyframes_and_root_are_reproduced():
    path = deepmimic_clip_paths()['walk']
    motion = read_deepmimic_motion(path)
    joints, fps = load_deepmimic_clip(path)
    # constant keyframe durations: the native rate returns the stored keyframes, one per row
    assert len(joints) == len(motion.frames) and fps == pytest.approx(1 / motion.frames[0, 0])
    # the hips are symmetric about the root link, so their midpoint is the stored root position (y up)
    np.testing.assert_allclose(0.5 * (joints[:, 11] + joints[:, 12]), motion.frames[:, 1:4], atol=1e-5)
    # standing upright at frame 0: head above shoulders above hips above ankles; facing +x (nose ahead of the
    # hips); the right side is +z
    y = joints[0, :, 1]
    assert y[0] > y[5] > y[11] > y[15]
    assert joints[0, 0, 0] > joints[0, 11:13, 0].mean() + 0.05
    assert joints[0, 12, 2] > joints[0, 11, 2] and joints[0, 6, 2] > joints[0, 5, 2]


def test_resampling_and_cycles():
    path = deepmimic_clip_paths()['run']
    motion = read_deepmimic_motion(path)
    once, _ = load_deepmimic_clip(path, fps=60.0)
    twice, _ = load_deepmimic_clip(path, fps=60.0, cycles=2)
    assert len(once) == int(np.floor(motion.duration * 60 + 1e-6)) + 1
    assert len(twice) == int(np.floor(2 * motion.duration * 60 + 1e-6)) + 1
    np.testing.assert_allclose(twice[:len(once)], once)
    # a wrap clip's next cycle repeats the pose, shifted by the root's per-cycle offset (computeCycleOffset)
    times = np.array([0.1, 0.37, 0.5])
    first = interpolate_motion(motion, times)
    second = interpolate_motion(motion, times + motion.duration)
    offset = motion.frames[-1, 1:4] - motion.frames[0, 1:4]
    np.testing.assert_allclose(motion.cycle_offset, offset)
    np.testing.assert_allclose(second.root_pos, first.root_pos + offset, atol=1e-9)
    np.testing.assert_allclose(np.abs((second.root_quat * first.root_quat).sum(-1)), 1.0, atol=1e-9)
    np.testing.assert_allclose(second.quats, first.quats, atol=1e-9)
    np.testing.assert_allclose(second.angles, first.angles, atol=1e-9)
    # vertical_cycles=False: only the horizontal travel accumulates (the benchmark's looping clips)
    level = interpolate_motion(motion, times + motion.duration, vertical_cycles=False)
    np.testing.assert_allclose(level.root_pos, first.root_pos + offset * [1, 0, 1], atol=1e-9)
    # halfway between two keyframes: the root position is the linear interpolation
    mid = interpolate_motion(motion, np.array([0.5 * motion.times[1]]))[0]
    np.testing.assert_allclose(mid.root_pos, 0.5 * (motion.frames[0, 1:4] + motion.frames[1, 1:4]), atol=1e-12)
    assert np.linalg.norm(mid.root_quat) == pytest.approx(1.0)
    assert mid.quats.shape == (8, 4) and mid.angles.shape == (4,)


def _rest_pose(root_pos: np.ndarray, root_quat: np.ndarray) -> HumanoidPose:
    """Every joint at identity (quaternions x, y, z, w), knees and elbows straight."""
    return HumanoidPose(np.asarray(root_pos, float), np.asarray(root_quat, float), np.tile([0.0, 0, 0, 1], (8, 1)),
                        np.zeros(4))


def _rest_joints_by_hand() -> np.ndarray:
    """(17, 3) COCO-17 joints of the rest pose with the root at the origin, from the URDF's joint origins."""
    s = HUMANOID_SCALE
    chest = np.array([0.0, 0.944604, 0.0])                # root -> chest (pybullet_data/humanoid/humanoid.urdf)
    neck = chest + [0.0, 0.895576, 0.0]
    side = {}
    for name, z in (('right', 1.0), ('left', -1.0)):
        hip = np.array([0.0, 0.0, 0.339548 * z])
        knee = hip + [0.0, -1.686184, 0.0]
        ankle = knee + [0.0, -1.639480, 0.0]
        shoulder = chest + [-0.0962, 0.974, 0.73244 * z]
        elbow = shoulder + [0.0, -1.099152, 0.0]
        wrist = elbow + [0.0, -1.035788, 0.0]
        side[name] = dict(hip=hip, knee=knee, ankle=ankle, shoulder=shoulder, elbow=elbow, wrist=wrist)
    head = neck * s + [0.0, 0.7 * s, 0.0]                # head-sphere centre, radius 0.41 units
    r = 0.41 * s
    c30, s30, c25, s25 = np.cos(np.pi / 6), np.sin(np.pi / 6), np.cos(np.radians(25)), np.sin(np.radians(25))
    joints = [head + [r, 0, 0], head + r * np.array([c30 * c25, s25, -s30 * c25]),
              head + r * np.array([c30 * c25, s25, s30 * c25]), head + [0, 0, -r], head + [0, 0, r]]
    for part in ('shoulder', 'elbow', 'wrist', 'hip', 'knee', 'ankle'):
        joints += [side['left'][part] * s, side['right'][part] * s]
    return np.array(joints)


def test_forward_kinematics_by_hand():
    rest = _rest_joints_by_hand()
    with DeepMimicHumanoid() as humanoid:
        # identity rotations: the joints are the URDF's rest-pose offsets (x 0.25), shifted by the root position
        root = np.array([1.0, 0.9, -2.0])
        humanoid.set_pose(_rest_pose(root, [0, 0, 0, 1.0]))
        np.testing.assert_allclose(humanoid.coco17(), rest + root, atol=1e-9)
        # a 90-degree root turn about +y turns every joint about the root: (x, y, z) -> (z, y, -x)
        humanoid.set_pose(_rest_pose(root, [0, np.sin(np.pi / 4), 0, np.cos(np.pi / 4)]))
        turned = rest[:, [2, 1, 0]] * [1, 1, -1]
        np.testing.assert_allclose(humanoid.coco17(), turned + root, atol=1e-9)
        # a 90-degree right elbow (about z) points the right forearm forward (+x); the rest does not move
        pose = _rest_pose(np.zeros(3), [0, 0, 0, 1.0])
        pose.angles[1] = np.pi / 2  # REVOLUTE_JOINTS: right_knee, right_elbow, left_knee, left_elbow
        humanoid.set_pose(pose)
        bent = rest.copy()
        bent[10] = rest[8] + [1.035788 * HUMANOID_SCALE, 0, 0]
        np.testing.assert_allclose(humanoid.coco17(), bent, atol=1e-9)


def test_bad_motion_file(tmp_path):
    bad = tmp_path / 'humanoid3d_bad.txt'
    bad.write_text(json.dumps({'Loop': 'wrap', 'Frames': [[0.1] * 43, [0.0] * 43]}))
    with pytest.raises(ValueError, match=r'humanoid3d_bad.txt: Frames must be \(N >= 2, 44\)'):
        load_deepmimic_clip(str(bad))


def test_prepare_mocap_tool(tmp_path, capsys):
    from vpd_mm.teachers.pose3d import read_pose3d, yup_to_zup
    out = str(tmp_path / 'mocap3d')
    assert call_tool('tools/data/prepare_mocap.py', ['--out', out, '--clips', 'walk', 'jump']) is None
    assert 'written 2' in capsys.readouterr().out
    joints, fps = read_pose3d(f'{out}/walk.npz')
    ref, _ = load_deepmimic_clip(deepmimic_clip_paths()['walk'], fps=30.0)
    assert fps == 30.0
    np.testing.assert_allclose(joints, yup_to_zup(ref), atol=1e-6)
    assert joints[0, 0, 2] > joints[0, 15, 2] + 1.0  # +z is up: the nose is over a metre above the ankle
    with open(f'{out}/splits.json') as f:
        assert json.load(f) == {'train': ['walk'], 'heldout': ['jump']}
    assert call_tool('tools/data/prepare_mocap.py', ['--out', out, '--clips', 'walk', 'jump']) is None
    assert 'written 0 (0 frames), skipped 2' in capsys.readouterr().out
    assert call_tool('tools/data/prepare_mocap.py', ['--out', out, '--clips', 'nope']).startswith(
        "error: unknown DeepMimic clip(s) ['nope']")
