"""The fine-grained classes: each class's defining quantity (turns, twists, body shape in flight) measured
from the 3D joints of planned instances, and the flight edit itself."""
from __future__ import annotations

import numpy as np
import pytest

from vpd_mm.mocap import HumanoidPose, read_deepmimic_motion, interpolate_motion
from vpd_mm.mocap_sports.flight import axial_turn, flexion, flight_quantities, heading_turn
from vpd_mm.mocap_sports.motion import FlightEdit, Routine, Segment, apply_flight_edit
from vpd_mm.mocap_sports.plan import (ACTION_CLASSES, BACKFLIP_FLIGHT, CLASS_SETS, JUMP_FLIGHT, SPIN_FLIGHT,
                                      MocapSportsSpec, plan_instances)
from vpd_mm.mocap_sports.scene import _clips


@pytest.fixture(scope='module')
def humanoid():
    from vpd_mm.mocap.kinematics import DeepMimicHumanoid
    with DeepMimicHumanoid() as h:
        yield h


def _joints(humanoid, poses) -> np.ndarray:
    out = []
    for pose in poses:
        humanoid.set_pose(pose)
        out.append(humanoid.coco17())
    return np.stack(out)


@pytest.mark.parametrize('clip, flight', [('jump', JUMP_FLIGHT), ('backflip', BACKFLIP_FLIGHT), ('spin', SPIN_FLIGHT)])
def test_flight_windows_are_the_clips_airborne_intervals(humanoid, clip, flight):
    motion = read_deepmimic_motion(clip)
    times = np.arange(0.0, motion.duration, 0.01)
    joints = humanoid.joints_for(interpolate_motion(motion, times, vertical_cycles=False))
    feet = np.minimum(joints[:, 15, 1], joints[:, 16, 1])
    airborne = feet > np.percentile(feet, 5) + 0.05
    inside = (times > flight[0] + 0.02) & (times < flight[1] - 0.02)
    assert airborne[inside].all()
    # airborne just before/after the window is only possible in another flight of the clip
    assert not airborne[np.argmin(np.abs(times - (flight[0] - 0.03)))]
    assert not airborne[np.argmin(np.abs(times - (flight[1] + 0.03)))]


def test_flight_edit_weights_by_hand():
    edit = FlightEdit(1.0, 2.0, turn=360.0)
    assert [edit.progress(t) for t in (0.5, 1.0, 1.5, 2.0, 3.0)] == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert edit.progress(1.25) == pytest.approx(0.25 ** 2 * (3 - 0.5))  # smoothstep
    assert [edit.shape_weight(t) for t in (1.0, 1.3, 1.5, 1.7, 2.0)] == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert edit.shape_weight(1.15) == pytest.approx(0.5)


def test_a_whole_turn_lands_as_captured_and_an_empty_edit_changes_nothing():
    motion = read_deepmimic_motion('jump')
    for t in (0.5, 0.98, 1.5):
        pose = interpolate_motion(motion, np.array([t]), vertical_cycles=False)[0]
        same = apply_flight_edit(pose, t, FlightEdit(*JUMP_FLIGHT))
        np.testing.assert_allclose(np.abs(same.root_quat), np.abs(pose.root_quat), atol=1e-12)
        np.testing.assert_array_equal(same.quats, pose.quats)
        np.testing.assert_array_equal(same.angles, pose.angles)
    after = interpolate_motion(motion, np.array([1.5]), vertical_cycles=False)[0]
    turned = apply_flight_edit(after, 1.5, FlightEdit(*JUMP_FLIGHT, turn=360.0))
    np.testing.assert_allclose(np.abs(np.dot(turned.root_quat, after.root_quat)), 1.0, atol=1e-9)


def test_measures_by_hand():
    # a body standing along +y whose left-right axis turns by 90 degrees per frame about +y: 3 frames = 180
    frames = []
    for angle in np.radians([0, 90, 180]):
        lateral = np.array([np.sin(angle), 0.0, np.cos(angle)])  # right minus left, arctan2(x, z) = angle
        j = np.zeros((17, 3))
        for left, right, y in ((5, 6, 1.5), (11, 12, 1.0)):
            j[left], j[right] = np.array([0, y, 0]) - lateral / 4, np.array([0, y, 0]) + lateral / 4
        j[13], j[14] = j[11] - [0, 0.5, 0], j[12] - [0, 0.5, 0]  # straight legs
        j[15], j[16] = j[13] - [0, 0.5, 0], j[14] - [0, 0.5, 0]
        frames.append(j)
    joints = np.stack(frames)
    assert heading_turn(joints) == pytest.approx(180.0)
    assert axial_turn(joints) == pytest.approx(180.0)  # upright: a turn is a turn about the body's axis
    hip, knee = flexion(joints)
    np.testing.assert_allclose(hip, 0.0, atol=1e-9)
    np.testing.assert_allclose(knee, 0.0, atol=1e-9)
    joints[:, 15] = joints[:, 13] + [0.5, 0, 0]  # left shank forward: knee flexed 90
    joints[:, 16] = joints[:, 14] + [0.5, 0, 0]
    np.testing.assert_allclose(flexion(joints)[1], 90.0, atol=1e-9)


EXPECTED = {  # the defining quantities of each class (turns about the vertical, twists, hip/knee flexion)
    'jump_straight': dict(turns=0.0, shape='straight'), 'jump_tuck': dict(turns=0.0, shape='tuck'),
    'jump_half_turn': dict(turns=0.5, shape='straight'), 'jump_full_turn': dict(turns=1.0, shape='straight'),
    'backflip_tuck': dict(twists=0.0, shape='tuck'), 'backflip_pike': dict(twists=0.0, shape='pike'),
    'backflip_layout': dict(twists=0.0, shape='straight'), 'backflip_full_twist': dict(twists=1.0, shape='straight'),
    'spin_plain': dict(turns=0.25, shape='bent'), 'spin_extra_turn': dict(turns=1.25, shape='bent'),
    'spin_two_extra_turns': dict(turns=2.25, shape='bent'), 'spin_tuck': dict(turns=0.25, shape='tuck'),
}
SHAPES = dict(straight=((0, 30), (0, 30)), tuck=((90, 130), (110, 150)), pike=((90, 130), (0, 30)),
              bent=((40, 90), (30, 70)))  # (hip range, knee range) of the largest flexion in mid-flight


def test_fine_class_set_is_twelve_classes_in_three_families():
    fine = CLASS_SETS['fine']
    assert len(fine) == 12 and set(fine) == set(EXPECTED)
    families = {}
    for name in fine:
        families.setdefault(ACTION_CLASSES[name].family, set()).add(ACTION_CLASSES[name].clips)
    assert sorted(families) == ['backflip', 'jump', 'spin']
    assert all(len(clips) == 1 for clips in families.values())  # a family shares its clip window


def test_every_fine_class_shows_its_defining_quantity(humanoid):
    spec = MocapSportsSpec(classes=CLASS_SETS['fine'], instances_per_class=3)
    seen = set()
    for inst in plan_instances(spec, seed=0):
        segments = [Segment(**s) for s in inst.segments]
        routine = Routine(segments, _clips([s.clip for s in segments]), mirror=inst.mirror)
        action, edit = segments[1], FlightEdit(**segments[1].edit)
        start = routine.bounds[1] + (edit.start - action.start) / action.speed
        end = routine.bounds[1] + (edit.end - action.start) / action.speed
        q = flight_quantities(_joints(humanoid, [routine.pose_at(t) for t in np.linspace(start, end, 40)]))
        want = EXPECTED[inst.label]
        for key in ('turns', 'twists'):
            if key in want:
                assert q[key] == pytest.approx(want[key], abs=0.1), (inst.label, inst.mirror, q)
        (hip_lo, hip_hi), (knee_lo, knee_hi) = SHAPES[want['shape']]
        assert hip_lo <= q['hip'] <= hip_hi and knee_lo <= q['knee'] <= knee_hi, (inst.label, q)
        seen.add((inst.label, inst.mirror))
    assert {label for label, _ in seen} == set(EXPECTED)
    assert {m for _, m in seen} == {False, True}  # mirrored instances measured too: the same quantities
