"""The benchmark's performances: DeepMimic clips chained into uncut *routines* with cross-faded transitions, and
mirrored athletes.

Clips are read, laid out and sampled by :mod:`vpd_mm.mocap` (:func:`~vpd_mm.mocap.read_deepmimic_motion`,
:class:`~vpd_mm.mocap.HumanoidPose`, :func:`~vpd_mm.mocap.interpolate_motion`). Here a looping clip keeps its
height over cycles (only its horizontal travel accumulates, :func:`clip_pose`); every segment of a routine is
turned and shifted to continue the previous one, and cross-faded with it (:func:`~vpd_mm.mocap.blend_poses`);
a mirrored pose is the reflection through the character's sagittal plane ``z = 0`` with left and right swapped
(:func:`mirror_pose`). Posed on the humanoid, a clip time gives exactly the joints of
:func:`vpd_mm.mocap.load_deepmimic_clip` (tested), within a clip's first cycle.

Only numpy/scipy; pybullet (which poses the humanoid) is used by :mod:`vpd_mm.mocap.kinematics` and ``render.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ..mocap import (REVOLUTE_JOINTS, SPHERICAL_JOINTS, DeepMimicMotion, HumanoidPose, blend_poses,
                     interpolate_motion, slerp)

__all__ = ['Segment', 'Routine', 'FlightEdit', 'apply_flight_edit', 'clip_pose', 'mirror_pose', 'heading']


def _twin(name: str) -> str:
    if name.startswith('right_'):
        return 'left_' + name[len('right_'):]
    if name.startswith('left_'):
        return 'right_' + name[len('left_'):]
    return name


# Mirror permutations: every right joint swaps with its left twin.
_Q_MIRROR = [SPHERICAL_JOINTS.index(_twin(n)) for n in SPHERICAL_JOINTS]
_A_MIRROR = [REVOLUTE_JOINTS.index(_twin(n)) for n in REVOLUTE_JOINTS]


def mirror_pose(pose: HumanoidPose) -> HumanoidPose:
    """The mirror pose(s): reflection through the plane ``z = 0`` and a left/right swap of the joints.

    Reflection R -> M R M with M = diag(1, 1, -1) maps a quaternion (x, y, z, w) to (-x, -y, z, w); the knee and
    elbow rotate about z, so their angles are unchanged (only swapped).

    Args:
        pose (HumanoidPose): a pose, or T poses.

    Returns:
        HumanoidPose: the mirrored pose(s), same shapes.
    """
    flip = np.array([-1.0, -1.0, 1.0, 1.0])
    return HumanoidPose(pose.root_pos * np.array([1.0, 1.0, -1.0]), pose.root_quat * flip,
                        pose.quats[..., _Q_MIRROR, :] * flip, pose.angles[..., _A_MIRROR])


def heading(root_quat: np.ndarray) -> float:
    """Heading angle (radians) of the body about +y: the yaw that turns the rest pose towards this one.

    Estimated from both the forward (+x) and the right (+z) axes of the root, weighted by how horizontal each
    is, so that it stays defined for lying, crawling and inverted bodies. Turning the body by ``a`` about +y
    adds ``a`` to the heading.

    Args:
        root_quat (np.ndarray): (4,) root orientation, x, y, z, w.
    """
    forward, right = Rotation.from_quat(root_quat).apply(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    # yaw a maps forward (1,0,0) to (cos a, 0, -sin a) and right (0,0,1) to (sin a, 0, cos a)
    cos = forward[0] + right[2]
    sin = -forward[2] + right[0]
    return float(np.arctan2(sin, cos))


def _turned(pose: HumanoidPose, yaw: float, pivot: np.ndarray, offset: np.ndarray) -> HumanoidPose:
    """Rotate the whole body by ``yaw`` about the vertical axis through ``pivot``, then add ``offset``."""
    turn = Rotation.from_rotvec([0.0, yaw, 0.0])
    return HumanoidPose(turn.apply(pose.root_pos - pivot) + pivot + offset,
                        (turn * Rotation.from_quat(pose.root_quat)).as_quat(), pose.quats, pose.angles)


@dataclass(frozen=True)
class FlightEdit:
    """An edit of what a clip does while airborne: the fine-grained classes differ only here.

    Over the airborne interval ``[start, end]`` (clip seconds) the root gains ``turn`` degrees about the vertical
    axis and ``twist`` degrees about the body's long axis (its local +y), both eased in with a smoothstep so
    take-off and landing stay as captured (a whole number of turns lands exactly as the clip does). ``hip`` and
    ``knee`` (degrees; hip flexion brings the thigh forward, a knee angle is <= 0 when flexed, as in the clips)
    replace both legs' hip rotation and knee angle in mid-flight: the replacement is blended in over the first
    30% of the flight and out over the last 30%. None keeps the clip's own.

    Args:
        start (float): take-off, clip seconds.
        end (float): landing, clip seconds.
        turn (float): extra rotation about the vertical axis, degrees.
        twist (float): extra rotation about the body's long axis, degrees.
        hip (float | None): hip flexion in mid-flight, degrees.
        knee (float | None): knee angle in mid-flight, degrees.
    """

    start: float
    end: float
    turn: float = 0.0
    twist: float = 0.0
    hip: float | None = None
    knee: float | None = None

    def progress(self, t: float) -> float:
        """0 before take-off, 1 after landing, smoothstep between."""
        u = min(max((t - self.start) / (self.end - self.start), 0.0), 1.0)
        return u * u * (3 - 2 * u)

    def shape_weight(self, t: float) -> float:
        """Weight of the mid-flight body shape: 0 at take-off and landing, 1 from 30% to 70% of the flight."""
        u = (t - self.start) / (self.end - self.start)
        if u <= 0.0 or u >= 1.0:
            return 0.0
        s = min(1.0, min(u, 1.0 - u) / 0.3)
        return s * s * (3 - 2 * s)


_LEGS_Q = [SPHERICAL_JOINTS.index(n) for n in ('right_hip', 'left_hip')]
_LEGS_A = [REVOLUTE_JOINTS.index(n) for n in ('right_knee', 'left_knee')]


def apply_flight_edit(pose: HumanoidPose, t: float, edit: FlightEdit) -> HumanoidPose:
    """The pose at clip time ``t`` with ``edit`` applied (unchanged outside the edit's flight where the
    progress is 0; after landing the extra turn and twist stay).

    Args:
        pose (HumanoidPose): one pose of the clip at clip time ``t``.
        t (float): clip seconds.
        edit (FlightEdit): the edit.

    Returns:
        HumanoidPose: the edited pose (new arrays).
    """
    progress, weight = edit.progress(t), edit.shape_weight(t)
    root = Rotation.from_quat(pose.root_quat)
    if edit.turn:
        root = Rotation.from_rotvec([0.0, np.radians(edit.turn) * progress, 0.0]) * root
    if edit.twist:
        root = root * Rotation.from_rotvec([0.0, np.radians(edit.twist) * progress, 0.0])
    quats, angles = pose.quats.copy(), pose.angles.copy()
    if weight > 0 and edit.hip is not None:
        target = Rotation.from_rotvec([0.0, 0.0, np.radians(edit.hip)]).as_quat()
        for q in _LEGS_Q:
            quats[q] = slerp(quats[q], target, weight)
    if weight > 0 and edit.knee is not None:
        angles[_LEGS_A] = (1 - weight) * angles[_LEGS_A] + weight * np.radians(edit.knee)
    return HumanoidPose(pose.root_pos.copy(), root.as_quat(), quats, angles)


def clip_pose(clip: DeepMimicMotion, t: float) -> HumanoidPose:
    """The pose of a clip at clip time ``t`` seconds, as the benchmark plays it.

    Looping clips repeat with the root shifted by the horizontal part of the cycle offset per cycle (also for
    negative ``t``; the height does not drift); other clips hold their first/last frame outside
    ``[0, duration]``.
    """
    return interpolate_motion(clip, np.array([t]), vertical_cycles=False)[0]


@dataclass
class Segment:
    """A piece of a clip played inside a routine.

    Args:
        clip (str): clip name.
        start (float): clip time (seconds) at which the segment starts.
        length (float): clip seconds played.
        speed (float): playback speed factor (2 = twice as fast); the segment lasts ``length / speed`` seconds.
        label (str | None): the action class of this segment, or None for unlabelled movement.
        edit (dict | None): :class:`FlightEdit` fields (JSON-able) applied to the clip, or None.
    """

    clip: str
    start: float
    length: float
    speed: float = 1.0
    label: str | None = None
    edit: dict | None = None


class Routine:
    """Clips chained into one continuous performance, in video time (seconds).

    Each segment is rotated about the vertical axis and shifted so that its root position (horizontally) and
    heading continue the previous segment's at the boundary; around each boundary the two segments are
    cross-faded over ``blend`` seconds (both keep playing: a looping clip continues, a one-shot clip holds its
    end pose). ``mirror`` mirrors every pose (a left-handed/left-footed athlete).

    Args:
        segments (list[Segment]): the pieces, in order.
        clips (dict[str, DeepMimicMotion]): clips by name (:func:`vpd_mm.mocap.read_deepmimic_motion`).
        blend (float): cross-fade length in seconds.
        mirror (bool): mirror the whole routine.
    """

    def __init__(self, segments: list[Segment], clips: dict[str, DeepMimicMotion], blend: float = 0.24,
                 mirror: bool = False) -> None:
        if not segments:
            raise ValueError('a routine needs at least one segment')
        missing = sorted({s.clip for s in segments} - set(clips))
        if missing:
            raise ValueError(f'routine uses clips that were not loaded: {missing}')
        self.segments = list(segments)
        self.clips = clips
        self.blend = float(blend)
        self.mirror = bool(mirror)
        self.bounds = np.concatenate([[0.0], np.cumsum([s.length / s.speed for s in segments])])
        # Align every segment to the previous one at their common boundary: (yaw, pivot, offset).
        self._transforms: list[tuple[float, np.ndarray, np.ndarray]] = []
        for i, seg in enumerate(segments):
            if i == 0:
                self._transforms.append((0.0, np.zeros(3), np.zeros(3)))
                continue
            prev = self._segment_pose(i - 1, self.bounds[i])
            raw = clip_pose(clips[seg.clip], seg.start)
            yaw = heading(prev.root_quat) - heading(raw.root_quat)
            offset = prev.root_pos - raw.root_pos
            offset[1] = 0.0
            self._transforms.append((yaw, raw.root_pos.copy(), offset))

    @property
    def duration(self) -> float:
        """Total length in video seconds."""
        return float(self.bounds[-1])

    def segment_frames(self, fps: float) -> list[tuple[int, int]]:
        """``[start, end)`` video frames of every segment at ``fps`` (frame i shows time ``i / fps``)."""
        return [(int(np.ceil(a * fps - 1e-9)), int(np.ceil(b * fps - 1e-9)))
                for a, b in zip(self.bounds[:-1], self.bounds[1:])]

    def _segment_pose(self, i: int, tau: float) -> HumanoidPose:
        seg = self.segments[i]
        clip_time = seg.start + (tau - self.bounds[i]) * seg.speed
        pose = clip_pose(self.clips[seg.clip], clip_time)
        if seg.edit:
            pose = apply_flight_edit(pose, clip_time, FlightEdit(**seg.edit))
        if i < len(self._transforms):
            pose = _turned(pose, *self._transforms[i])
        return pose

    def pose_at(self, tau: float) -> HumanoidPose:
        """The pose at video time ``tau`` seconds (cross-faded near segment boundaries, mirrored if asked)."""
        n = len(self.segments)
        i = min(max(int(np.searchsorted(self.bounds, tau, side='right')) - 1, 0), n - 1)
        pose = self._segment_pose(i, tau)
        half = self.blend / 2
        # Near the boundary with the next or the previous segment, cross-fade with a smoothstep weight.
        for j, boundary in ((i + 1, self.bounds[i + 1]), (i - 1, self.bounds[i])):
            if 0 <= j < n and half > 0 and abs(tau - boundary) < half:
                s = (tau - (boundary - half)) / self.blend  # 0 -> 1 across the window
                s = s * s * (3 - 2 * s)
                other = self._segment_pose(j, tau)
                first, second = (pose, other) if j > i else (other, pose)
                pose = blend_poses(first, second, s)
                break
        return mirror_pose(pose) if self.mirror else pose
