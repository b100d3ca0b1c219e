"""DeepMimic motion capture shipped with pybullet: the motion file format, the humanoid's pose layout, and poses at
any time (slerp for rotations, linear for positions and angles).

pybullet's ``pybullet_data/data/motions/humanoid3d_*.txt`` files are real motion capture retargeted onto the
DeepMimic humanoid (``pybullet_data/humanoid/humanoid.urdf``).

Motion file (JSON): ``{"Loop": "wrap"|"none", "Frames": [[44 floats], ...]}``. One row: keyframe duration (s),
root position (3, metres, **Y up**), then quaternions stored **w, x, y, z** for root, chest, neck, right hip,
right ankle, right shoulder, left hip, left ankle, left shoulder, and scalar angles (radians) for the knees and
elbows, in the order of :data:`POSE_LAYOUT`.

Poses (:class:`HumanoidPose`) store quaternions **x, y, z, w** (pybullet's and scipy's order) in pybullet's world
frame: metres, **+y up**, the humanoid faces **+x** in its rest pose and its right side is **+z**.
"""
from __future__ import annotations

import glob
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import Union

import numpy as np
from scipy.spatial.transform import Rotation

__all__ = [
    'POSE_LAYOUT', 'POSE_DIM', 'LINK', 'SPHERICAL_JOINTS', 'REVOLUTE_JOINTS', 'VIPE_TRAIN_CLIPS',
    'VIPE_HELDOUT_CLIPS', 'HumanoidPose', 'DeepMimicMotion', 'deepmimic_clip_paths', 'read_deepmimic_motion',
    'slerp', 'blend_poses', 'interpolate_motion'
]

POSE_LAYOUT: tuple[tuple[str, int, int], ...] = (
    # (name, pybullet joint index, number of floats); root first (base), then the 12 posed joints
    ('root', -1, 4), ('chest', 1, 4), ('neck', 2, 4), ('right_hip', 3, 4), ('right_knee', 4, 1),
    ('right_ankle', 5, 4), ('right_shoulder', 6, 4), ('right_elbow', 7, 1), ('left_hip', 9, 4),
    ('left_knee', 10, 1), ('left_ankle', 11, 4), ('left_shoulder', 12, 4), ('left_elbow', 13, 1))
"""Rotations of one motion row after ``[duration, root x, y, z]``: name, pybullet joint, floats (4 = w,x,y,z quat)."""

POSE_DIM = 44
"""Floats per motion row (including the leading keyframe duration)."""

LINK: dict[str, int] = dict(root=0, chest=1, neck=2, right_hip=3, right_knee=4, right_ankle=5, right_shoulder=6,
                            right_elbow=7, right_wrist=8, left_hip=9, left_knee=10, left_ankle=11,
                            left_shoulder=12, left_elbow=13, left_wrist=14)
"""pybullet link index of every humanoid link (loaded with ``URDF_MAINTAIN_LINK_ORDER``); the wrists are fixed."""

SPHERICAL_JOINTS: tuple[str, ...] = tuple(name for name, _, size in POSE_LAYOUT[1:] if size == 4)
"""The 8 spherical joints, in the order of :attr:`HumanoidPose.quats`."""

REVOLUTE_JOINTS: tuple[str, ...] = tuple(name for name, _, size in POSE_LAYOUT[1:] if size == 1)
"""The 4 revolute joints (knees and elbows, axis z), in the order of :attr:`HumanoidPose.angles`."""

VIPE_TRAIN_CLIPS: tuple[str, ...] = (
    'walk', 'punch', 'roll', 'crawl', 'getup_faceup', 'getup_facedown', 'dance_b')
"""Clips the embedded VIPE* trains on (``configs/vipe/vipe_mocap.py``).

The other clips (:data:`VIPE_HELDOUT_CLIPS`) are never seen by VIPE*: they are the ones to use as action classes
of a benchmark rendered from this mocap, and the view-invariance test set. A VIPE* trained on a clip has learnt
to map every view of each of its frames to one point, so using it as the teacher on renders of that same clip
would hand the student (and the recogniser) a near-perfect, leaked pose oracle.
"""

VIPE_HELDOUT_CLIPS: tuple[str, ...] = (
    'backflip', 'cartwheel', 'jump', 'kick', 'run', 'spin', 'spinkick', 'dance_a')
"""Clips held out from VIPE* training: benchmark action classes and the view-invariance test set."""

_COLUMNS: tuple[int, ...] = tuple(4 + sum(size for _, _, size in POSE_LAYOUT[:i]) for i in range(len(POSE_LAYOUT)))
"""Column of every :data:`POSE_LAYOUT` entry in a motion row."""


@dataclass
class HumanoidPose:
    """One pose of the DeepMimic humanoid, or a sequence of T poses (every array then has a leading T axis).

    Args:
        root_pos (np.ndarray): (3,) or (T, 3) root position in metres, Y up.
        root_quat (np.ndarray): (4,) or (T, 4) root orientation, quaternion x, y, z, w.
        quats (np.ndarray): (8, 4) or (T, 8, 4) local rotations of :data:`SPHERICAL_JOINTS`, x, y, z, w.
        angles (np.ndarray): (4,) or (T, 4) angles in radians of :data:`REVOLUTE_JOINTS`.
    """

    root_pos: np.ndarray
    root_quat: np.ndarray
    quats: np.ndarray
    angles: np.ndarray

    def __len__(self) -> int:
        """T, the number of poses of a sequence (a single pose has no length)."""
        if self.root_pos.ndim != 2:
            raise TypeError('a single HumanoidPose has no length')
        return len(self.root_pos)

    def __getitem__(self, index: Union[int, slice, np.ndarray]) -> 'HumanoidPose':
        """Pose(s) ``index`` of a sequence."""
        return HumanoidPose(self.root_pos[index], self.root_quat[index], self.quats[index], self.angles[index])


def slerp(a: np.ndarray, b: np.ndarray, w: Union[float, np.ndarray]) -> np.ndarray:
    """Spherical linear interpolation of rotations along the shortest arc, with scipy's ``Rotation``.

    Computes ``a * exp(w * log(a^-1 * b))``, exactly as :class:`scipy.spatial.transform.Slerp` does between two
    keyframes.

    Args:
        a (np.ndarray): (..., 4) quaternions x, y, z, w at ``w = 0`` (normalised here).
        b (np.ndarray): (..., 4) quaternions at ``w = 1``, broadcastable with ``a``.
        w (float | np.ndarray): weights, broadcastable to the shape ``(...)``.

    Returns:
        np.ndarray: (..., 4) unit quaternions x, y, z, w.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    shape = np.broadcast_shapes(a.shape, b.shape)
    weights = np.broadcast_to(np.asarray(w, dtype=np.float64), shape[:-1]).reshape(-1, 1)
    start = Rotation.from_quat(np.broadcast_to(a, shape).reshape(-1, 4))
    end = Rotation.from_quat(np.broadcast_to(b, shape).reshape(-1, 4))
    out = start * Rotation.from_rotvec((start.inv() * end).as_rotvec() * weights)
    return out.as_quat().reshape(shape)


def blend_poses(a: HumanoidPose, b: HumanoidPose, w: Union[float, np.ndarray]) -> HumanoidPose:
    """The pose(s) between ``a`` (``w = 0``) and ``b`` (``w = 1``): :func:`slerp` for every rotation, linear for the
    root position and the angles.

    Args:
        a (HumanoidPose): a pose, or T poses.
        b (HumanoidPose): as ``a``.
        w (float | np.ndarray): a weight, or (T,) weights.

    Returns:
        HumanoidPose: the blend, with the shapes of ``a``.
    """
    w = np.asarray(w, dtype=np.float64)[..., None]
    # root and joints in one slerp call: (..., 9, 4)
    rot_a = np.concatenate([a.root_quat[..., None, :], a.quats], axis=-2)
    rot_b = np.concatenate([b.root_quat[..., None, :], b.quats], axis=-2)
    rots = slerp(rot_a, rot_b, w)
    return HumanoidPose((1 - w) * a.root_pos + w * b.root_pos, rots[..., 0, :], rots[..., 1:, :],
                        (1 - w) * a.angles + w * b.angles)


def _wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions w, x, y, z -> unit quaternions x, y, z, w."""
    q = np.concatenate([q[..., 1:4], q[..., :1]], axis=-1)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


@dataclass
class DeepMimicMotion:
    """One DeepMimic motion file.

    Args:
        name (str): clip name (``walk`` for ``humanoid3d_walk.txt``).
        frames (np.ndarray): (N, 44) keyframes as stored (quaternions w, x, y, z).
        loop (str): ``'wrap'`` (cyclic; the root advances by :attr:`cycle_offset` per cycle) or ``'none'``.
        times (np.ndarray): (N,) keyframe times in seconds (cumulative durations, ``times[0] = 0``).

    Attributes:
        keyframes (HumanoidPose): the N keyframes as poses (unit quaternions x, y, z, w).
    """

    name: str
    frames: np.ndarray
    loop: str
    times: np.ndarray
    keyframes: HumanoidPose = field(init=False, repr=False)

    def __post_init__(self) -> None:
        blocks = [self.frames[:, c:c + size] for (_, _, size), c in zip(POSE_LAYOUT, _COLUMNS)]
        quats = [_wxyz_to_xyzw(b) for b in blocks[1:] if b.shape[1] == 4]
        angles = [b[:, 0] for b in blocks[1:] if b.shape[1] == 1]
        self.keyframes = HumanoidPose(self.frames[:, 1:4].copy(), _wxyz_to_xyzw(blocks[0]),
                                      np.stack(quats, axis=1), np.stack(angles, axis=1))

    @property
    def duration(self) -> float:
        """Length of one cycle in seconds."""
        return float(self.times[-1])

    @property
    def native_fps(self) -> float:
        """Keyframe rate: 1 / the most common positive keyframe duration."""
        dts = self.frames[:-1, 0]
        dts = dts[dts > 0]
        values, counts = np.unique(np.round(dts, 6), return_counts=True)
        return float(1.0 / values[np.argmax(counts)])

    @property
    def cycle_offset(self) -> np.ndarray:
        """(3,) root travel per cycle of a ``'wrap'`` clip, ``root[N-1] - root[0]`` (pybullet's
        ``computeCycleOffset``)."""
        return self.frames[-1, 1:4] - self.frames[0, 1:4]


def deepmimic_clip_paths() -> dict[str, str]:
    """The DeepMimic humanoid clips inside the installed pybullet_data.

    Returns:
        dict[str, str]: clip name (``walk``, ``run``, ``backflip``, ...) -> absolute path of
        ``pybullet_data/data/motions/humanoid3d_<name>.txt``, sorted by name (15 clips with pybullet 3.2).

    Raises:
        FileNotFoundError: if pybullet_data has no such clips.
    """
    import pybullet_data
    folder = osp.join(pybullet_data.getDataPath(), 'data', 'motions')
    paths = sorted(glob.glob(osp.join(folder, 'humanoid3d_*.txt')))
    if not paths:
        raise FileNotFoundError(f'{folder}: no humanoid3d_*.txt motion files (is pybullet installed?)')
    return {osp.basename(p)[len('humanoid3d_'):-len('.txt')]: p for p in paths}


def read_deepmimic_motion(path: str) -> DeepMimicMotion:
    """Read and validate a DeepMimic motion file.

    Args:
        path (str): a ``humanoid3d_*.txt`` file, or the name of an installed clip (:func:`deepmimic_clip_paths`).

    Returns:
        DeepMimicMotion: the keyframes and their times.

    Raises:
        ValueError: naming the file, if it is neither a file nor an installed clip, is not JSON, has no
            ``Frames``, rows of the wrong length, non-finite values, negative durations or zero quaternions.
    """
    if not osp.isfile(path):
        paths = deepmimic_clip_paths()
        if path not in paths:
            raise ValueError(f'{path}: neither a file nor one of the clips {sorted(paths)}')
        path = paths[path]
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f'{path}: not a readable JSON motion file ({exc})') from exc
    if not isinstance(data, dict) or 'Frames' not in data:
        raise ValueError(f'{path}: no "Frames" list (not a DeepMimic motion file)')
    try:
        frames = np.asarray(data['Frames'], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f'{path}: Frames is not a rectangular list of numbers ({exc})') from exc
    if frames.ndim != 2 or frames.shape[1] != POSE_DIM or len(frames) < 2:
        raise ValueError(f'{path}: Frames must be (N >= 2, {POSE_DIM}), got {frames.shape}')
    if not np.isfinite(frames).all():
        raise ValueError(f'{path}: Frames contains non-finite values')
    if (frames[:-1, 0] <= 0).any():
        raise ValueError(f'{path}: keyframe durations (column 0) must be > 0 except in the last row')
    quat_columns = [c for (_, _, size), c in zip(POSE_LAYOUT, _COLUMNS) if size == 4]
    if (np.linalg.norm(np.stack([frames[:, c:c + 4] for c in quat_columns]), axis=-1) < 1e-6).any():
        raise ValueError(f'{path}: Frames: zero-length quaternion')
    loop = str(data.get('Loop', 'none'))
    if loop not in ('wrap', 'none'):
        raise ValueError(f'{path}: Loop must be "wrap" or "none", got {loop!r}')
    times = np.concatenate([[0.0], np.cumsum(frames[:-1, 0])])
    name = osp.basename(path)
    name = name[len('humanoid3d_'):] if name.startswith('humanoid3d_') else name
    return DeepMimicMotion(name=osp.splitext(name)[0], frames=frames, loop=loop, times=times)


def interpolate_motion(motion: DeepMimicMotion, times: np.ndarray, vertical_cycles: bool = True) -> HumanoidPose:
    """Humanoid poses at arbitrary times: :func:`blend_poses` of the two keyframes around each time.

    ``'wrap'`` clips repeat, the root shifted by :attr:`DeepMimicMotion.cycle_offset` per cycle (also before the
    first cycle, for negative times); ``'none'`` clips hold their first/last keyframe outside
    ``[0, duration]``.

    Args:
        motion (DeepMimicMotion): the clip.
        times (np.ndarray): (T,) times in seconds.
        vertical_cycles (bool): add the vertical part of the cycle offset too (pybullet's behaviour). False
            keeps the height: only the horizontal travel accumulates over cycles. Defaults to True.

    Returns:
        HumanoidPose: T poses.
    """
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    duration = motion.duration
    if motion.loop == 'wrap' and duration > 0:
        cycles = np.floor(times / duration)
        # floating point may put a time exactly on the cycle end into the next cycle: keep it in range
        local = np.clip(times - cycles * duration, 0.0, duration)
    else:
        cycles = np.zeros_like(times)
        local = np.clip(times, 0.0, duration)
    key_t = motion.times
    # keyframe k with key_t[k] < t <= key_t[k + 1] (k = 0 at t = 0), as scipy's Slerp
    k = np.clip(np.searchsorted(key_t, local) - 1, 0, len(key_t) - 2)
    w = (local - key_t[k]) / (key_t[k + 1] - key_t[k])
    pose = blend_poses(motion.keyframes[k], motion.keyframes[k + 1], w)
    offset = motion.cycle_offset
    if not vertical_cycles:
        offset[1] = 0.0
    pose.root_pos = pose.root_pos + cycles[:, None] * offset
    return pose
