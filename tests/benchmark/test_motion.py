"""DeepMimic clips as the benchmark plays them: slerp, interpolation, FK consistency with VIPE*'s training data,
mirroring, routines."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from vpd_mm.mocap import blend_poses, read_deepmimic_motion, slerp
from vpd_mm.mocap_sports.motion import Routine, Segment, clip_pose, heading, mirror_pose
from vpd_mm.pose import COCO17_FLIP_INDEX


def test_slerp_and_heading_hand_cases():
    qz90 = np.array([0, 0, np.sin(np.pi / 4), np.cos(np.pi / 4)])  # 90 degrees about z
    identity = np.array([0, 0, 0, 1.0])
    half = slerp(identity, qz90, 0.5)
    np.testing.assert_allclose(Rotation.from_quat(half).apply([1.0, 0, 0]), [np.cos(np.pi / 4), np.sin(np.pi / 4), 0],
                               atol=1e-12)
    # -q is the same rotation: the shortest arc goes there directly (45 degrees halfway, not 135)
    np.testing.assert_allclose(Rotation.from_quat(slerp(identity, -qz90, 1.0)).as_matrix(),
                               Rotation.from_quat(qz90).as_matrix(), atol=1e-12)
    assert Rotation.from_quat(slerp(identity, -qz90, 0.5)).magnitude() == pytest.approx(np.pi / 4)
    # broadcasting: (2, 3, 4) quaternions with one weight per row
    batch = slerp(np.tile(identity, (2, 3, 1)), np.tile(qz90, (2, 3, 1)), np.array([[0.0], [1.0]]))
    np.testing.assert_allclose(np.abs(batch[0] @ identity), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.abs(batch[1] @ qz90), 1.0, atol=1e-12)
    # a yaw by a about +y maps +x to (cos a, 0, -sin a) and adds a to the heading
    yaw = lambda a: Rotation.from_rotvec([0.0, a, 0.0])  # noqa: E731
    np.testing.assert_allclose(yaw(0.3).apply([1.0, 0, 0]), [np.cos(0.3), 0, -np.sin(0.3)], atol=1e-12)
    assert heading((yaw(0.3) * yaw(0.5)).as_quat()) == pytest.approx(0.8)


def test_clip_keyframes_and_interpolation():
    clip = read_deepmimic_motion('walk')
    keys = clip.keyframes
    assert clip.loop == 'wrap' and clip.duration == pytest.approx(1.2666, abs=1e-3)
    k = 5
    pose = clip_pose(clip, clip.times[k])
    np.testing.assert_allclose(pose.root_pos, keys.root_pos[k], atol=1e-12)
    np.testing.assert_allclose(pose.angles, keys.angles[k], atol=1e-12)
    np.testing.assert_allclose(np.abs(np.sum(pose.quats * keys.quats[k], axis=-1)), 1.0, atol=1e-12)
    mid = clip_pose(clip, (clip.times[k] + clip.times[k + 1]) / 2)
    np.testing.assert_allclose(mid.root_pos, (keys.root_pos[k] + keys.root_pos[k + 1]) / 2, atol=1e-12)
    # one cycle later: same joints, root moved by the horizontal part of the cycle offset (the height is kept)
    later = clip_pose(clip, clip.times[k] + clip.duration)
    horizontal = clip.cycle_offset * [1, 0, 1]
    np.testing.assert_allclose(later.root_pos - pose.root_pos, horizontal, atol=1e-9)
    assert np.linalg.norm(horizontal) > 1.0
    earlier = clip_pose(clip, clip.times[k] - clip.duration)  # negative times loop too
    np.testing.assert_allclose(pose.root_pos - earlier.root_pos, horizontal, atol=1e-9)
    kick = read_deepmimic_motion('kick')  # not looping: holds its ends
    np.testing.assert_allclose(clip_pose(kick, -1.0).root_pos, kick.keyframes.root_pos[0])
    np.testing.assert_allclose(clip_pose(kick, 99.0).root_pos, kick.keyframes.root_pos[-1])


def test_read_clip_errors(tmp_path):
    with pytest.raises(ValueError, match='neither a file nor one of the clips'):
        read_deepmimic_motion('moonwalk')
    bad = tmp_path / 'humanoid3d_bad.txt'
    bad.write_text('{"Loop": "wrap", "Frames": [[0.1, 1, 2]]}')
    with pytest.raises(ValueError, match='humanoid3d_bad.txt'):
        read_deepmimic_motion(str(bad))
    row = [0.1, 0, 0.9, 0] + [1.0, 0, 0, 0] * 8 + [0.0] * 4 + [1.0, 0, 0, 0]
    row[8:12] = [0.0] * 4  # the chest's quaternion
    bad.write_text(f'{{"Loop": "none", "Frames": [{row}, {row}]}}')
    with pytest.raises(ValueError, match='humanoid3d_bad.txt: Frames: zero-length quaternion'):
        read_deepmimic_motion(str(bad))


@pytest.mark.parametrize('name', ['backflip', 'roll', 'getup_faceup'])
def test_joints_match_teachers_forward_kinematics(name, renderer):
    """Posing the benchmark's clip on the (thick) renderer humanoid gives exactly the COCO-17 joints of
    vpd_mm.mocap.load_deepmimic_clip (stock humanoid): one skeleton for VIPE* and the corpus."""
    from vpd_mm.mocap import deepmimic_clip_paths, load_deepmimic_clip
    theirs, fps = load_deepmimic_clip(deepmimic_clip_paths()[name], fps=30)
    clip = read_deepmimic_motion(name)
    ours = []
    for k in range(len(theirs)):
        renderer.set_pose(clip_pose(clip, min(k / fps, clip.duration)))
        ours.append(renderer.keypoints3d())
    np.testing.assert_allclose(np.array(ours), theirs, atol=1e-9)


def test_mirrored_pose_is_the_reflection_with_sides_swapped(renderer):
    pose = clip_pose(read_deepmimic_motion('cartwheel'), 1.1)
    renderer.set_pose(pose)
    joints = renderer.keypoints3d()
    renderer.set_pose(mirror_pose(pose))
    mirrored = renderer.keypoints3d()
    expected = joints[COCO17_FLIP_INDEX] * np.array([1.0, 1.0, -1.0])
    np.testing.assert_allclose(mirrored, expected, atol=1e-9)
    assert np.abs(mirrored - joints).max() > 0.1  # the pose really changed


def test_routine_is_continuous_and_aligned():
    clips = {n: read_deepmimic_motion(n) for n in ('walk', 'backflip', 'run')}
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
    clip = read_deepmimic_motion('dance_a')
    a, b = clip_pose(clip, 0.2), clip_pose(clip, 1.0)
    for w, ref in ((0.0, a), (1.0, b)):
        blended = blend_poses(a, b, w)
        np.testing.assert_allclose(blended.root_pos, ref.root_pos, atol=1e-12)
        assert np.allclose(np.abs(np.sum(blended.quats * ref.quats, axis=1)), 1.0)
