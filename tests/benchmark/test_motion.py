"""DeepMimic clips as humanoid poses: interpolation, FK consistency with the teachers' mocap module, mirroring,
routines."""
from __future__ import annotations

import numpy as np
import pytest

from vpd_mm.mocap_sports.motion import (HumanoidPose, Routine, Segment, heading, load_clip, quat_mul, quat_rotate,
                                     quat_slerp, yaw_quat)
from vpd_mm.pose import COCO17_FLIP_INDEX


def test_quaternion_helpers_hand_cases():
    qz90 = np.array([0, 0, np.sin(np.pi / 4), np.cos(np.pi / 4)])  # 90 degrees about z
    np.testing.assert_allclose(quat_rotate(qz90, [1.0, 0, 0]), [0, 1, 0], atol=1e-12)
    # yaw by a about +y maps +x to (cos a, 0, -sin a) and adds a to the heading
    np.testing.assert_allclose(quat_rotate(yaw_quat(0.3), [1.0, 0, 0]), [np.cos(0.3), 0, -np.sin(0.3)], atol=1e-12)
    assert heading(quat_mul(yaw_quat(0.3), yaw_quat(0.5))) == pytest.approx(0.8)
    identity = np.array([0, 0, 0, 1.0])
    half = quat_slerp(identity, qz90, 0.5)
    np.testing.assert_allclose(quat_rotate(half, [1.0, 0, 0]), [np.cos(np.pi / 4), np.sin(np.pi / 4), 0],
                               atol=1e-12)
    np.testing.assert_allclose(quat_slerp(identity, -qz90, 1.0), qz90, atol=1e-12)  # shortest arc, same rotation


def test_clip_keyframes_and_interpolation():
    clip = load_clip('walk')
    assert clip.loop and clip.duration == pytest.approx(1.2666, abs=1e-3)
    k = 5
    pose = clip.pose_at(clip.times[k])
    np.testing.assert_allclose(pose.root_pos, clip.root_pos[k], atol=1e-12)
    np.testing.assert_allclose(pose.angles, clip.angles[k], atol=1e-12)
    mid = clip.pose_at((clip.times[k] + clip.times[k + 1]) / 2)
    np.testing.assert_allclose(mid.root_pos, (clip.root_pos[k] + clip.root_pos[k + 1]) / 2, atol=1e-12)
    # one cycle later: same joints, root moved by the horizontal cycle offset
    later = clip.pose_at(clip.times[k] + clip.duration)
    np.testing.assert_allclose(later.root_pos - pose.root_pos, clip.cycle_offset, atol=1e-9)
    assert clip.cycle_offset[1] == 0 and np.linalg.norm(clip.cycle_offset) > 1.0
    kick = load_clip('kick')  # not looping: holds its ends
    np.testing.assert_allclose(kick.pose_at(-1.0).root_pos, kick.root_pos[0])
    np.testing.assert_allclose(kick.pose_at(99.0).root_pos, kick.root_pos[-1])


def test_load_clip_errors(tmp_path):
    with pytest.raises(ValueError, match='neither a file nor one of the clips'):
        load_clip('moonwalk')
    bad = tmp_path / 'humanoid3d_bad.txt'
    bad.write_text('{"Loop": "wrap", "Frames": [[0.1, 1, 2]]}')
    with pytest.raises(ValueError, match='humanoid3d_bad.txt'):
        load_clip(str(bad))


@pytest.mark.parametrize('name', ['backflip', 'roll', 'getup_faceup'])
def test_joints_match_teachers_forward_kinematics(name, renderer):
    """Posing our interpolated clip on the (thick) renderer humanoid gives exactly the COCO-17 joints of
    vpd_mm.mocap.deepmimic.load_deepmimic_clip (stock humanoid, scipy slerp): one skeleton for VIPE* and the corpus."""
    from vpd_mm.mocap.deepmimic import deepmimic_clip_paths, load_deepmimic_clip
    theirs, fps = load_deepmimic_clip(deepmimic_clip_paths()[name], fps=30)
    clip = load_clip(name)
    ours = []
    for k in range(len(theirs)):
        renderer.set_pose(clip.pose_at(min(k / fps, clip.duration)))
        ours.append(renderer.keypoints3d())
    np.testing.assert_allclose(np.array(ours), theirs, atol=1e-9)


def test_mirrored_pose_is_the_reflection_with_sides_swapped(renderer):
    pose = load_clip('cartwheel').pose_at(1.1)
    renderer.set_pose(pose)
    joints = renderer.keypoints3d()
    renderer.set_pose(pose.mirrored())
    mirrored = renderer.keypoints3d()
    expected = joints[COCO17_FLIP_INDEX] * np.array([1.0, 1.0, -1.0])
    np.testing.assert_allclose(mirrored, expected, atol=1e-9)
    assert np.abs(mirrored - joints).max() > 0.1  # the pose really changed


def test_routine_is_continuous_and_aligned():
    clips = {n: load_clip(n) for n in ('walk', 'backflip', 'run')}
    segments = [Segment('walk', 0.3, 0.8), Segment('backflip', 0.0, 1.75, speed=1.3, label='backflip'),
                Segment('run', 0.2, 0.6, speed=0.9)]
    routine = Routine(segments, clips, blend=0.24)
    assert routine.duration == pytest.approx(0.8 + 1.75 / 1.3 + 0.6 / 0.9)
    times = np.arange(0, routine.duration, 1 / 200)
    roots = np.array([routine.pose_at(t).root_pos for t in times])
    steps = np.linalg.norm(np.diff(roots, axis=0), axis=1)
    assert steps.max() < 0.05  # never teleports (a root moves < 10 m/s)
    # the flip starts where the walk ended, facing the same way
    b = routine.bounds[1]
    walk_end = routine._segment_pose(0, b)
    flip_start = routine._segment_pose(1, b)
    np.testing.assert_allclose(walk_end.root_pos[[0, 2]], flip_start.root_pos[[0, 2]], atol=1e-9)
    assert heading(flip_start.root_quat) == pytest.approx(heading(walk_end.root_quat), abs=1e-9)
    assert routine.segment_frames(25) == [(0, 20), (20, 54), (54, 71)]
    mirrored = Routine(segments, clips, blend=0.24, mirror=True)
    np.testing.assert_allclose(mirrored.pose_at(1.0).root_pos, routine.pose_at(1.0).root_pos * [1, 1, -1])


def test_pose_blend_endpoints():
    clip = load_clip('dance_a')
    a, b = clip.pose_at(0.2), clip.pose_at(1.0)
    for w, ref in ((0.0, a), (1.0, b)):
        blended = HumanoidPose.blend(a, b, w)
        np.testing.assert_allclose(blended.root_pos, ref.root_pos, atol=1e-12)
        assert np.allclose(np.abs(np.sum(blended.quats * ref.quats, axis=1)), 1.0)
