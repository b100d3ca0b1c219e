"""DeepMimic motion clips (``pybullet_data/data/motions/humanoid3d_*.txt``) as poses of the pybullet humanoid.

A motion file is JSON ``{"Loop": "wrap"|"none", "Frames": [[44 floats], ...]}``; one row is the keyframe
duration, the root position (metres, **Y up**), the root quaternion and the local joint rotations, quaternions
stored ``w, x, y, z`` (see ``shared/notes/mocap_benchmark.md``, section A). Files are read and validated by
:func:`vpd_mm.mocap.deepmimic.read_deepmimic_motion`; this module samples a clip at any single time (slerp for
rotations, linear for positions and the knee/elbow angles, the cycle offset for looping clips, horizontal
only), mirrors a pose (left/right swap and reflection through the character's sagittal plane ``z = 0``), and
chains clips into an uncut *routine* with cross-faded transitions. Posed on the humanoid, a clip time gives
exactly the joints of :func:`vpd_mm.mocap.deepmimic.load_deepmimic_clip` (tested), within a clip's first cycle.

Only numpy; pybullet (which poses the humanoid and computes its forward kinematics) lives in ``render.py``.
"""
from __future__ import annotations

import math
import os.path as osp
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    'CLIP_NAMES', 'SPHERICAL_JOINTS', 'REVOLUTE_JOINTS', 'HumanoidPose', 'MotionClip', 'Segment', 'Routine',
    'load_clip', 'quat_slerp', 'quat_mul', 'quat_rotate', 'yaw_quat', 'heading'
]

CLIP_NAMES: tuple[str, ...] = (
    'walk', 'run', 'jump', 'backflip', 'cartwheel', 'spinkick', 'spin', 'kick', 'punch', 'roll', 'crawl',
    'dance_a', 'dance_b', 'getup_faceup', 'getup_facedown')
"""The 15 humanoid clips shipped in ``pybullet_data/data/motions``."""

SPHERICAL_JOINTS: tuple[str, ...] = (
    'chest', 'neck', 'right_hip', 'right_ankle', 'right_shoulder', 'left_hip', 'left_ankle', 'left_shoulder')
"""Spherical joints, in the order of :attr:`HumanoidPose.quats`."""

REVOLUTE_JOINTS: tuple[str, ...] = ('right_knee', 'right_elbow', 'left_knee', 'left_elbow')
"""Revolute joints (axis z), in the order of :attr:`HumanoidPose.angles`."""

# Column offsets of the frame row (after the duration and the root): (name, offset, is_quaternion).
_LAYOUT: tuple[tuple[str, int, bool], ...] = (
    ('chest', 8, True), ('neck', 12, True), ('right_hip', 16, True), ('right_knee', 20, False),
    ('right_ankle', 21, True), ('right_shoulder', 25, True), ('right_elbow', 29, False),
    ('left_hip', 30, True), ('left_knee', 34, False), ('left_ankle', 35, True), ('left_shoulder', 39, True),
    ('left_elbow', 43, False))
_ROW_LEN = 44
_Q_INDEX = {name: i for i, name in enumerate(SPHERICAL_JOINTS)}
_A_INDEX = {name: i for i, name in enumerate(REVOLUTE_JOINTS)}


def _twin(name: str) -> str:
    if name.startswith('right_'):
        return 'left_' + name[len('right_'):]
    if name.startswith('left_'):
        return 'right_' + name[len('left_'):]
    return name


# Mirror permutations: every right joint swaps with its left twin.
_Q_MIRROR = np.array([_Q_INDEX[_twin(n)] for n in SPHERICAL_JOINTS])
_A_MIRROR = np.array([_A_INDEX[_twin(n)] for n in REVOLUTE_JOINTS])


# ------------------------------------------------------------------------------------------------ quaternions
# All quaternions here are stored x, y, z, w (pybullet's order).
def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` of (..., 4) xyzw quaternions."""
    ax, ay, az, aw = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bx, by, bz, bw = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    return np.stack([aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw,
                     aw * bw - ax * bx - ay * by - az * bz], axis=-1)


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate (..., 3) vectors ``v`` by (..., 4) xyzw unit quaternions ``q``."""
    q = np.asarray(q, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    vx, vy, vz = v[..., 0], v[..., 1], v[..., 2]
    # t = 2 u x v;  v' = v + w t + u x t
    tx, ty, tz = 2 * (y * vz - z * vy), 2 * (z * vx - x * vz), 2 * (x * vy - y * vx)
    return np.stack([vx + w * tx + (y * tz - z * ty), vy + w * ty + (z * tx - x * tz),
                     vz + w * tz + (x * ty - y * tx)], axis=-1)


def quat_slerp(a: np.ndarray, b: np.ndarray, w: float | np.ndarray) -> np.ndarray:
    """Spherical interpolation from ``a`` (w=0) to ``b`` (w=1) of (..., 4) unit quaternions (shortest arc)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)[..., None] if np.ndim(w) else float(w)
    dot = np.sum(a * b, axis=-1, keepdims=True)
    b = np.where(dot < 0, -b, b)
    dot = np.clip(np.abs(dot), -1.0, 1.0)
    theta = np.arccos(dot)
    sin = np.sin(theta)
    small = sin < 1e-6
    safe = np.where(small, 1.0, sin)
    wa = np.where(small, 1.0 - w, np.sin((1.0 - w) * theta) / safe)
    wb = np.where(small, w, np.sin(w * theta) / safe)
    out = wa * a + wb * b
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def yaw_quat(angle: float) -> np.ndarray:
    """(4,) xyzw rotation by ``angle`` radians about the vertical (+y) axis."""
    return np.array([0.0, np.sin(angle / 2), 0.0, np.cos(angle / 2)])


def heading(root_quat: np.ndarray) -> float:
    """Heading angle (radians) of the body about +y: the yaw that turns the rest pose towards this one.

    Estimated from both the forward (+x) and the right (+z) axes of the root, weighted by how horizontal each
    is, so that it stays defined for lying, crawling and inverted bodies. A rotation by :func:`yaw_quat`
    ``(a)`` adds ``a`` to the heading.
    """
    forward = quat_rotate(root_quat, np.array([1.0, 0.0, 0.0]))
    right = quat_rotate(root_quat, np.array([0.0, 0.0, 1.0]))
    # yaw a maps forward (1,0,0) to (cos a, 0, -sin a) and right (0,0,1) to (sin a, 0, cos a)
    cos = forward[0] + right[2]
    sin = -forward[2] + right[0]
    return float(np.arctan2(sin, cos))


# ------------------------------------------------------------------------------------------------ poses
@dataclass
class HumanoidPose:
    """One pose of the DeepMimic humanoid.

    Args:
        root_pos (np.ndarray): (3,) root position in metres, Y up.
        root_quat (np.ndarray): (4,) root orientation, xyzw.
        quats (np.ndarray): (8, 4) local rotations of :data:`SPHERICAL_JOINTS`, xyzw.
        angles (np.ndarray): (4,) angles in radians of :data:`REVOLUTE_JOINTS`.
    """

    root_pos: np.ndarray
    root_quat: np.ndarray
    quats: np.ndarray
    angles: np.ndarray

    def mirrored(self) -> 'HumanoidPose':
        """The mirror pose: reflection through the plane ``z = 0`` and a left/right swap of the joints.

        Reflection R -> M R M with M = diag(1, 1, -1) maps a quaternion (x, y, z, w) to (-x, -y, z, w); the
        knee and elbow rotate about z, so their angles are unchanged (only swapped).
        """
        flip = np.array([-1.0, -1.0, 1.0, 1.0])
        return HumanoidPose(self.root_pos * np.array([1.0, 1.0, -1.0]), self.root_quat * flip,
                            self.quats[_Q_MIRROR] * flip, self.angles[_A_MIRROR].copy())

    def transformed(self, yaw: float, pivot: np.ndarray, offset: np.ndarray) -> 'HumanoidPose':
        """Rotate the whole body by ``yaw`` about the vertical axis through ``pivot``, then add ``offset``."""
        q = yaw_quat(yaw)
        pos = quat_rotate(q, self.root_pos - pivot) + pivot + offset
        return HumanoidPose(pos, quat_mul(q, self.root_quat), self.quats, self.angles)

    @staticmethod
    def blend(a: 'HumanoidPose', b: 'HumanoidPose', w: float) -> 'HumanoidPose':
        """Cross-fade from ``a`` (w=0) to ``b`` (w=1): slerp rotations, lerp positions and angles."""
        return HumanoidPose((1 - w) * a.root_pos + w * b.root_pos, quat_slerp(a.root_quat, b.root_quat, w),
                            quat_slerp(a.quats, b.quats, w), (1 - w) * a.angles + w * b.angles)

    def joint_targets(self) -> list[list[float]]:
        """Joint positions for ``resetJointStatesMultiDof`` on links ``[1,2,3,4,5,6,7,9,10,11,12,13]``."""
        out = []
        for name, _, is_quat in _LAYOUT:
            out.append(list(self.quats[_Q_INDEX[name]]) if is_quat else [float(self.angles[_A_INDEX[name]])])
        return out


# ------------------------------------------------------------------------------------------------ clips
@dataclass
class MotionClip:
    """A parsed DeepMimic clip.

    Args:
        name (str): clip name, e.g. ``'backflip'``.
        loop (bool): True for ``"Loop": "wrap"`` clips (played cyclically, root shifted per cycle).
        times (np.ndarray): (K,) keyframe times in seconds, starting at 0.
        root_pos (np.ndarray): (K, 3) root positions.
        root_quat (np.ndarray): (K, 4) root quaternions xyzw (normalised).
        quats (np.ndarray): (K, 8, 4) local joint quaternions xyzw (normalised).
        angles (np.ndarray): (K, 4) knee/elbow angles.
    """

    name: str
    loop: bool
    times: np.ndarray
    root_pos: np.ndarray
    root_quat: np.ndarray
    quats: np.ndarray
    angles: np.ndarray
    cycle_offset: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        offset = self.root_pos[-1] - self.root_pos[0]
        offset[1] = 0.0  # keep the height: only the horizontal travel accumulates over cycles
        self.cycle_offset = offset

    @property
    def duration(self) -> float:
        """Length of one pass through the clip in seconds."""
        return float(self.times[-1])

    def pose_at(self, t: float) -> HumanoidPose:
        """The interpolated pose at clip time ``t`` seconds.

        Looping clips repeat with the root shifted by the cycle offset per cycle (also for negative ``t``);
        other clips hold their first/last frame outside ``[0, duration]``.
        """
        cycles = 0
        if self.loop:
            cycles = math.floor(t / self.duration)
            t = t - cycles * self.duration
        t = min(max(float(t), 0.0), self.duration)
        k = min(max(int(np.searchsorted(self.times, t, side='right')) - 1, 0), len(self.times) - 2)
        span = self.times[k + 1] - self.times[k]
        w = 0.0 if span <= 0 else min(max((t - self.times[k]) / span, 0.0), 1.0)
        root = (1 - w) * self.root_pos[k] + w * self.root_pos[k + 1] + cycles * self.cycle_offset
        return HumanoidPose(root, quat_slerp(self.root_quat[k], self.root_quat[k + 1], w),
                            quat_slerp(self.quats[k], self.quats[k + 1], w),
                            (1 - w) * self.angles[k] + w * self.angles[k + 1])


def _wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    q = np.concatenate([q[..., 1:4], q[..., :1]], axis=-1)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def load_clip(name_or_path: str) -> MotionClip:
    """Parse a DeepMimic humanoid motion file (with :func:`vpd_mm.mocap.deepmimic.read_deepmimic_motion`).

    Args:
        name_or_path (str): a clip name from :data:`CLIP_NAMES` (read from ``pybullet_data``) or a file path.

    Returns:
        MotionClip: the clip with normalised xyzw quaternions.

    Raises:
        ValueError: the file is missing or malformed (the message names the file and the problem).
    """
    from ..mocap.deepmimic import deepmimic_clip_paths, read_deepmimic_motion
    path = name_or_path
    if not osp.isfile(path):
        paths = deepmimic_clip_paths()
        if name_or_path not in paths:
            raise ValueError(f'{name_or_path}: neither a file nor one of the clips {sorted(paths)}')
        path = paths[name_or_path]
    motion = read_deepmimic_motion(path)
    frames = motion.frames
    norms = np.linalg.norm(np.stack([frames[:, o:o + 4] for o in (4, *(o for _, o, q in _LAYOUT if q))]), axis=-1)
    if (norms < 1e-6).any():
        raise ValueError(f'{path}: Frames: zero-length quaternion')
    quats = np.stack([_wxyz_to_xyzw(frames[:, o:o + 4]) for _, o, q in _LAYOUT if q], axis=1)
    angles = np.stack([frames[:, o] for _, o, q in _LAYOUT if not q], axis=1)
    return MotionClip(motion.name, motion.loop == 'wrap', motion.times.copy(), frames[:, 1:4].copy(),
                      _wxyz_to_xyzw(frames[:, 4:8]), quats, angles)


# ------------------------------------------------------------------------------------------------ routines
@dataclass
class Segment:
    """A piece of a clip played inside a routine.

    Args:
        clip (str): clip name.
        start (float): clip time (seconds) at which the segment starts.
        length (float): clip seconds played.
        speed (float): playback speed factor (2 = twice as fast); the segment lasts ``length / speed`` seconds.
        label (str | None): the action class of this segment, or None for unlabelled movement.
    """

    clip: str
    start: float
    length: float
    speed: float = 1.0
    label: str | None = None


class Routine:
    """Clips chained into one continuous performance, in video time (seconds).

    Each segment is rotated about the vertical axis and shifted so that its root position (horizontally) and
    heading continue the previous segment's at the boundary; around each boundary the two segments are
    cross-faded over ``blend`` seconds (both keep playing: a looping clip continues, a one-shot clip holds its
    end pose). ``mirror`` mirrors every pose (a left-handed/left-footed athlete).

    Args:
        segments (list[Segment]): the pieces, in order.
        clips (dict[str, MotionClip]): parsed clips by name.
        blend (float): cross-fade length in seconds.
        mirror (bool): mirror the whole routine.
    """

    def __init__(self, segments: list[Segment], clips: dict[str, MotionClip], blend: float = 0.24,
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
        bounds = np.concatenate([[0.0], np.cumsum([s.length / s.speed for s in segments])])
        self.bounds = bounds
        # Align every segment to the previous one at their common boundary.
        self._transforms: list[tuple[float, np.ndarray, np.ndarray]] = []
        for i, seg in enumerate(segments):
            if i == 0:
                self._transforms.append((0.0, np.zeros(3), np.zeros(3)))
                continue
            prev = self._segment_pose(i - 1, bounds[i])
            raw = clips[seg.clip].pose_at(seg.start)
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
        pose = self.clips[seg.clip].pose_at(seg.start + (tau - self.bounds[i]) * seg.speed)
        if i < len(self._transforms):
            yaw, pivot, offset = self._transforms[i]
            pose = pose.transformed(yaw, pivot, offset)
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
                pose = HumanoidPose.blend(first, second, s)
                break
        return pose.mirrored() if self.mirror else pose
