"""DeepMimic motion capture shipped with pybullet: clip loading, interpolation and humanoid forward kinematics.

pybullet's ``pybullet_data/data/motions/humanoid3d_*.txt`` files are real motion capture retargeted onto the
DeepMimic humanoid (``pybullet_data/humanoid/humanoid.urdf``). This module turns one such clip into COCO-17 3D
joints, ``(T, 17, 3)`` metres, so that both VIPE* training data (``tools/data/prepare_mocap.py``) and the rendered
benchmark corpus use the same skeleton.

Motion file (JSON): ``{"Loop": "wrap"|"none", "Frames": [[44 floats], ...]}``. One row: keyframe duration (s),
root position (3, metres, **Y up**), then quaternions stored **w, x, y, z** for root, chest, neck, right hip,
right ankle, right shoulder, left hip, left ankle, left shoulder, and scalar angles (radians) for the knees and
elbows, in the order of :data:`POSE_LAYOUT`.

Coordinates returned by :func:`load_deepmimic_clip` are pybullet's world frame: metres, **+y up**, the humanoid
faces **+x** in its rest pose and its right side is **+z**; the root's travel is kept (no centring). The face points
are synthetic points on the head sphere (see :data:`FACE_OFFSETS`).
"""
from __future__ import annotations

import contextlib
import glob
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

__all__ = [
    'POSE_LAYOUT', 'POSE_DIM', 'HUMANOID_SCALE', 'HEAD_RADIUS', 'HEAD_OFFSET', 'FACE_OFFSETS', 'COCO17_LINKS',
    'DeepMimicMotion', 'deepmimic_clip_paths', 'read_deepmimic_motion', 'interpolate_motion', 'DeepMimicHumanoid',
    'load_deepmimic_clip', 'VIPE_TRAIN_CLIPS', 'VIPE_HELDOUT_CLIPS', 'write_mocap_pose3d'
]

POSE_LAYOUT: tuple[tuple[str, int, int], ...] = (
    # (name, pybullet joint index, number of floats); root first (base), then the 12 posed joints
    ('root', -1, 4), ('chest', 1, 4), ('neck', 2, 4), ('right_hip', 3, 4), ('right_knee', 4, 1),
    ('right_ankle', 5, 4), ('right_shoulder', 6, 4), ('right_elbow', 7, 1), ('left_hip', 9, 4),
    ('left_knee', 10, 1), ('left_ankle', 11, 4), ('left_shoulder', 12, 4), ('left_elbow', 13, 1))
"""Rotations of one motion row after ``[duration, root x, y, z]``: name, pybullet joint, floats (4 = w,x,y,z quat)."""

POSE_DIM = 44
"""Floats per motion row (including the leading keyframe duration)."""

HUMANOID_SCALE = 0.25
"""``globalScaling`` used by pybullet's DeepMimic code: URDF units x 0.25 = metres."""

HEAD_RADIUS = 0.41 * HUMANOID_SCALE
"""Radius of the head sphere (m)."""

HEAD_OFFSET = np.array([0.0, 0.7 * HUMANOID_SCALE, 0.0])
"""Head-sphere centre in the neck link frame (m)."""

_EYE = np.array([np.cos(np.radians(30)) * np.cos(np.radians(25)), np.sin(np.radians(25)),
                 np.sin(np.radians(30)) * np.cos(np.radians(25))])
FACE_OFFSETS: dict[int, np.ndarray] = {
    0: np.array([HEAD_RADIUS, 0.0, 0.0]),                      # nose: front of the head (+x)
    1: HEAD_RADIUS * _EYE * np.array([1.0, 1.0, -1.0]),        # left eye: front, up 25 deg, 30 deg to the left
    2: HEAD_RADIUS * _EYE,                                     # right eye (right side is +z)
    3: np.array([0.0, 0.0, -HEAD_RADIUS]),                     # left ear
    4: np.array([0.0, 0.0, HEAD_RADIUS]),                      # right ear
}
"""COCO face points as offsets from the head centre, in the neck link frame (m)."""

COCO17_LINKS: dict[int, int] = {
    5: 12, 6: 6, 7: 13, 8: 7, 9: 14, 10: 8, 11: 9, 12: 3, 13: 10, 14: 4, 15: 11, 16: 5}
"""COCO-17 body joint -> humanoid link whose joint centre it is (shoulders, elbows, wrists, hips, knees, ankles)."""

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

_NECK_LINK = 2
_POSED_JOINTS = [j for _, j, _ in POSE_LAYOUT[1:]]


@dataclass
class DeepMimicMotion:
    """One DeepMimic motion file.

    Attributes:
        name (str): clip name (``walk`` for ``humanoid3d_walk.txt``).
        frames (np.ndarray): (N, 44) keyframes as stored (quaternions w, x, y, z).
        loop (str): ``'wrap'`` (cyclic; the root advances by ``root[N-1] - root[0]`` per cycle) or ``'none'``.
        times (np.ndarray): (N,) keyframe times in seconds (cumulative durations, ``times[0] = 0``).
    """
    name: str
    frames: np.ndarray
    loop: str
    times: np.ndarray

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
        path (str): a ``humanoid3d_*.txt`` file.

    Returns:
        DeepMimicMotion: the keyframes and their times.

    Raises:
        ValueError: naming the file, if it is not JSON, has no ``Frames``, rows of the wrong length, non-finite
            values, or negative durations.
    """
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
    loop = str(data.get('Loop', 'none'))
    if loop not in ('wrap', 'none'):
        raise ValueError(f'{path}: Loop must be "wrap" or "none", got {loop!r}')
    times = np.concatenate([[0.0], np.cumsum(frames[:-1, 0])])
    name = osp.basename(path)
    name = name[len('humanoid3d_'):] if name.startswith('humanoid3d_') else name
    return DeepMimicMotion(name=osp.splitext(name)[0], frames=frames, loop=loop, times=times)


def _wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    return np.concatenate([q[..., 1:4], q[..., :1]], axis=-1)


def interpolate_motion(motion: DeepMimicMotion, times: np.ndarray) -> np.ndarray:
    """Humanoid poses at arbitrary times (slerp for rotations, linear for root position and 1-DoF angles).

    Times beyond one cycle wrap around for ``'wrap'`` clips, with the root shifted by
    ``root[N-1] - root[0]`` per completed cycle (pybullet's ``computeCycleOffset``); for ``'none'`` clips they are
    clamped to ``[0, duration]``.

    Args:
        motion (DeepMimicMotion): the clip.
        times (np.ndarray): (T,) times in seconds, >= 0.

    Returns:
        np.ndarray: (T, 43) poses: root position (3), then per :data:`POSE_LAYOUT` entry its quaternion
        **x, y, z, w** (pybullet order, unit norm) or its angle; i.e. a motion row without the duration and with
        quaternions reordered for pybullet.
    """
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    if (times < 0).any():
        raise ValueError('interpolate_motion: times must be >= 0')
    duration = motion.duration
    if motion.loop == 'wrap' and duration > 0:
        cycles = np.floor(times / duration)
        local = times - cycles * duration
        # floating point may put a time exactly on the cycle end into the next cycle: keep it in range
        local = np.clip(local, 0.0, duration)
    else:
        cycles = np.zeros_like(times)
        local = np.clip(times, 0.0, duration)
    frames = motion.frames
    key_t = motion.times
    out = [np.stack([np.interp(local, key_t, frames[:, 1 + k]) for k in range(3)], axis=-1)]
    out[0] += cycles[:, None] * (frames[-1, 1:4] - frames[0, 1:4])[None]
    offset = 4
    for _, _, size in POSE_LAYOUT:
        block = frames[:, offset:offset + size]
        if size == 4:
            rots = Rotation.from_quat(_wxyz_to_xyzw(block))  # normalises (some roots have |q| = 0.995)
            out.append(Slerp(key_t, rots)(local).as_quat())
        else:
            out.append(np.interp(local, key_t, block[:, 0])[:, None])
        offset += size
    return np.concatenate(out, axis=-1)


@contextlib.contextmanager
def _quiet_native_output() -> Iterator[None]:
    """Silence C-level stdout/stderr (pybullet's URDF importer prints one warning per spherical joint)."""
    saved = []
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        for fd in (1, 2):
            try:
                saved.append((fd, os.dup(fd)))
                os.dup2(devnull, fd)
            except OSError:
                pass
        yield
    finally:
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)


class DeepMimicHumanoid:
    """The DeepMimic humanoid loaded into a private headless pybullet client, for posing and forward kinematics.

    Loaded as pybullet's deep_mimic does (``globalScaling=0.25``, fixed base, ``URDF_MAINTAIN_LINK_ORDER``).
    Use as a context manager, or call :meth:`close`.

    Args:
        client (int, optional): an existing pybullet client id to load into (e.g. a renderer's); a private
            ``DIRECT`` client is created (and closed by :meth:`close`) when None.
    """

    def __init__(self, client: Optional[int] = None) -> None:
        with _quiet_native_output():  # pybullet prints its build time on first import
            import pybullet as p
            import pybullet_data
        self._p = p
        self._own = client is None
        urdf = osp.join(pybullet_data.getDataPath(), 'humanoid', 'humanoid.urdf')
        with _quiet_native_output():
            self.client = p.connect(p.DIRECT) if client is None else client
            self.body = p.loadURDF(urdf, [0, 0, 0], globalScaling=HUMANOID_SCALE, useFixedBase=True,
                                   flags=p.URDF_MAINTAIN_LINK_ORDER, physicsClientId=self.client)
        self.num_links = p.getNumJoints(self.body, physicsClientId=self.client)

    def __enter__(self) -> 'DeepMimicHumanoid':
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect the private client (a shared client is left alone)."""
        if self._own and self.client is not None:
            self._p.disconnect(physicsClientId=self.client)
            self.client = None

    def set_pose(self, pose: np.ndarray) -> None:
        """Pose the humanoid.

        Args:
            pose (np.ndarray): (43,) one row of :func:`interpolate_motion` (root xyz, root quat xyzw, joints).
        """
        p = self._p
        root_pos, root_q = pose[:3], pose[3:7]
        targets: list[list[float]] = []
        offset = 7
        for _, _, size in POSE_LAYOUT[1:]:
            targets.append([float(v) for v in pose[offset:offset + size]])
            offset += size
        p.resetBasePositionAndOrientation(self.body, root_pos.tolist(), root_q.tolist(),
                                          physicsClientId=self.client)
        p.resetJointStatesMultiDof(self.body, _POSED_JOINTS, targets, physicsClientId=self.client)

    def link_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """World frames of every link's joint (after :meth:`set_pose`).

        Returns:
            tuple[np.ndarray, np.ndarray]: positions (L, 3) metres and orientations (L, 3, 3) rotation matrices
            (columns = the link's x, y, z axes in the world), L = 15 links in pybullet link order.
        """
        p = self._p
        states = p.getLinkStates(self.body, list(range(self.num_links)), computeForwardKinematics=1,
                                 physicsClientId=self.client)
        pos = np.array([s[4] for s in states], dtype=np.float64)
        rot = Rotation.from_quat(np.array([s[5] for s in states])).as_matrix()
        return pos, rot

    def coco17(self) -> np.ndarray:
        """COCO-17 joints of the current pose.

        Returns:
            np.ndarray: (17, 3) float64 world coordinates (m): body joints are link joint centres
            (:data:`COCO17_LINKS`), face points lie on the head sphere (:data:`FACE_OFFSETS`).
        """
        pos, rot = self.link_frames()
        joints = np.empty((17, 3), dtype=np.float64)
        for coco, link in COCO17_LINKS.items():
            joints[coco] = pos[link]
        head = pos[_NECK_LINK] + rot[_NECK_LINK] @ HEAD_OFFSET
        for coco, off in FACE_OFFSETS.items():
            joints[coco] = head + rot[_NECK_LINK] @ off
        return joints

    def joints_for(self, poses: np.ndarray) -> np.ndarray:
        """COCO-17 joints for a sequence of poses.

        Args:
            poses (np.ndarray): (T, 43) output of :func:`interpolate_motion`.

        Returns:
            np.ndarray: (T, 17, 3) float64 metres.
        """
        out = np.empty((len(poses), 17, 3), dtype=np.float64)
        for t, pose in enumerate(poses):
            self.set_pose(pose)
            out[t] = self.coco17()
        return out


def load_deepmimic_clip(path: str, fps: Optional[float] = None, cycles: int = 1) -> tuple[np.ndarray, float]:
    """COCO-17 3D joints of a DeepMimic clip, by forward kinematics of the pybullet humanoid.

    Frames are sampled at ``t = k / fps`` for ``k = 0 .. floor(cycles * duration * fps)``; with ``fps=None`` the
    clip's native keyframe rate is used, which returns the stored keyframes themselves for clips with constant
    keyframe durations (all but ``roll``, whose one odd keyframe is interpolated over).

    Args:
        path (str): a ``humanoid3d_*.txt`` file (see :func:`deepmimic_clip_paths`).
        fps (float, optional): output frame rate. Defaults to the clip's keyframe rate.
        cycles (int): how many cycles to play (``wrap`` clips advance their root each cycle; ``none`` clips hold
            their last pose). Defaults to 1.

    Returns:
        tuple[np.ndarray, float]: joints (T, 17, 3) float64 metres in pybullet's world frame (+y up, rest pose
        facing +x, right side +z), and the frame rate.

    Raises:
        ValueError: if the file is not a valid motion file or ``fps``/``cycles`` are not positive.
    """
    motion = read_deepmimic_motion(path)
    fps = motion.native_fps if fps is None else float(fps)
    if fps <= 0 or cycles < 1:
        raise ValueError(f'{path}: fps must be > 0 and cycles >= 1 (got fps={fps}, cycles={cycles})')
    total = motion.duration * cycles
    count = int(np.floor(total * fps + 1e-6)) + 1
    times = np.minimum(np.arange(count) / fps, total)
    poses = interpolate_motion(motion, times)
    with DeepMimicHumanoid() as humanoid:
        joints = humanoid.joints_for(poses)
    return joints, fps


def write_mocap_pose3d(out_dir: str, fps: Optional[float] = 30.0, clips: Optional[Sequence[str]] = None,
                       overwrite: bool = False) -> dict[str, int]:
    """Write DeepMimic clips as VIPE* 3D-pose files (``<out_dir>/<clip>.npz``) plus ``splits.json``.

    Joints are rotated from pybullet's +y-up world into the 3D-pose format's +z-up frame
    (:func:`vpd_mm.teachers.pose3d.yup_to_zup`). ``splits.json`` holds ``train`` (:data:`VIPE_TRAIN_CLIPS`) and
    ``heldout`` (:data:`VIPE_HELDOUT_CLIPS`), restricted to the clips written. Existing files are kept unless
    ``overwrite`` (every write is atomic, so an existing file is complete).

    Args:
        out_dir (str): output folder.
        fps (float, optional): resampling rate; None keeps each clip's keyframe rate. Defaults to 30.
        clips (Sequence[str], optional): clip names; all installed clips by default.
        overwrite (bool): rewrite existing files. Defaults to False.

    Returns:
        dict[str, int]: clip name -> frames written (0 for a file that was kept).

    Raises:
        ValueError: on an unknown clip name.
    """
    from ..corpus.corpus import atomic_write_bytes
    from ..teachers.pose3d import write_pose3d, yup_to_zup
    paths = deepmimic_clip_paths()
    clips = list(paths) if clips is None else list(clips)
    unknown = sorted(set(clips) - set(paths))
    if unknown:
        raise ValueError(f'unknown DeepMimic clip(s) {unknown}; installed: {sorted(paths)}')
    written: dict[str, int] = {}
    for name in clips:
        target = osp.join(out_dir, name + '.npz')
        if osp.exists(target) and not overwrite:
            written[name] = 0
            continue
        joints, clip_fps = load_deepmimic_clip(paths[name], fps=fps)
        write_pose3d(target, yup_to_zup(joints), clip_fps)
        written[name] = len(joints)
    splits = dict(train=[c for c in VIPE_TRAIN_CLIPS if c in clips],
                  heldout=[c for c in VIPE_HELDOUT_CLIPS if c in clips])
    data = json.dumps(splits, indent=1).encode()
    atomic_write_bytes(osp.join(out_dir, 'splits.json'), lambda f: f.write(data))
    return written

