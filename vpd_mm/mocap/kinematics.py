"""Forward kinematics of the DeepMimic humanoid: poses -> link frames (pybullet) -> COCO-17 3D joints.

The one skeleton of VIPE*'s training data (:func:`load_deepmimic_clip`) and of the rendered benchmark's ground
truth (:class:`vpd_mm.mocap_sports.render.Renderer` poses its thick humanoid with :class:`DeepMimicHumanoid`):
body joints are the joint centres of the humanoid's links (:data:`COCO17_LINKS`), the face points are synthetic
points on the head sphere (:data:`HEAD_OFFSET`, :data:`FACE_OFFSETS`). Coordinates are pybullet's world frame:
metres, **+y up**, the humanoid faces **+x** in its rest pose and its right side is **+z**.

pybullet is imported inside the functions that need it, so importing this module is cheap.
"""
from __future__ import annotations

import os.path as osp
from types import ModuleType
from typing import Optional

import numpy as np
from scipy.spatial.transform import Rotation

from ..utils.native_output import quiet_native_output
from .deepmimic import LINK, POSE_LAYOUT, HumanoidPose, interpolate_motion, read_deepmimic_motion

__all__ = [
    'HUMANOID_SCALE', 'HEAD_RADIUS', 'HEAD_OFFSET', 'FACE_OFFSETS', 'COCO17_LINKS', 'import_pybullet',
    'humanoid_urdf_path', 'coco17_from_links', 'DeepMimicHumanoid', 'load_deepmimic_clip'
]

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
"""COCO-17 body joint -> humanoid link (:data:`~vpd_mm.mocap.deepmimic.LINK`) whose joint centre it is
(shoulders, elbows, wrists, hips, knees, ankles)."""

_POSED_JOINTS: list[int] = [j for _, j, _ in POSE_LAYOUT[1:]]


def import_pybullet() -> ModuleType:
    """The ``pybullet`` module, imported with its build banner silenced."""
    with quiet_native_output():
        import pybullet
    return pybullet


def humanoid_urdf_path() -> str:
    """Path of the stock DeepMimic humanoid, ``pybullet_data/humanoid/humanoid.urdf``."""
    import pybullet_data
    return osp.join(pybullet_data.getDataPath(), 'humanoid', 'humanoid.urdf')


def coco17_from_links(positions: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """COCO-17 joints from the world frames of the humanoid's links.

    Args:
        positions (np.ndarray): (L, 3) link joint centres (m), L = 15 links in pybullet link order.
        rotations (np.ndarray): (L, 3, 3) link orientations (columns = the link's x, y, z axes in the world).

    Returns:
        np.ndarray: (17, 3) float64: body joints are link joint centres (:data:`COCO17_LINKS`), face points lie on
        the head sphere (:data:`HEAD_OFFSET`, :data:`FACE_OFFSETS` in the neck's frame).
    """
    joints = np.empty((17, 3), dtype=np.float64)
    for coco, link in COCO17_LINKS.items():
        joints[coco] = positions[link]
    neck, rot = positions[LINK['neck']], rotations[LINK['neck']]
    head = neck + rot @ HEAD_OFFSET
    for coco, offset in FACE_OFFSETS.items():
        joints[coco] = head + rot @ offset
    return joints


class DeepMimicHumanoid:
    """The DeepMimic humanoid loaded into a headless pybullet client, for posing and forward kinematics.

    Loaded as pybullet's deep_mimic does (``globalScaling=0.25``, fixed base, ``URDF_MAINTAIN_LINK_ORDER``).
    Use as a context manager, or call :meth:`close`.

    Args:
        client (int, optional): an existing pybullet client id to load into; a private ``DIRECT`` client is
            created (and closed by :meth:`close`) when None.
        urdf (str, optional): a URDF with the stock humanoid's links and joint frames (e.g. the renderer's
            thick-bodied one); the stock :func:`humanoid_urdf_path` when None. pybullet reads it here, so the file
            may be deleted afterwards.

    Attributes:
        client (int | None): the pybullet client (None once closed).
        body (int): the humanoid's body id in that client.
        num_links (int): 15.
    """

    def __init__(self, client: Optional[int] = None, urdf: Optional[str] = None) -> None:
        p = import_pybullet()
        self._p = p
        self._own = client is None
        urdf = humanoid_urdf_path() if urdf is None else urdf
        with quiet_native_output():  # pybullet's URDF importer prints one warning per spherical joint
            self.client: Optional[int] = p.connect(p.DIRECT) if client is None else client
            self.body: int = p.loadURDF(urdf, [0, 0, 0], globalScaling=HUMANOID_SCALE, useFixedBase=True,
                                        flags=p.URDF_MAINTAIN_LINK_ORDER, physicsClientId=self.client)
        self.num_links: int = p.getNumJoints(self.body, physicsClientId=self.client)

    def __enter__(self) -> 'DeepMimicHumanoid':
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect the private client (a shared client is left alone)."""
        if self._own and self.client is not None:
            self._p.disconnect(physicsClientId=self.client)
        self.client = None

    def set_pose(self, pose: HumanoidPose) -> None:
        """Pose the humanoid (root and every joint).

        Args:
            pose (HumanoidPose): one pose.
        """
        quats, angles = iter(pose.quats), iter(pose.angles)
        targets = [[float(v) for v in next(quats)] if size == 4 else [float(next(angles))]
                   for _, _, size in POSE_LAYOUT[1:]]
        self._p.resetBasePositionAndOrientation(self.body, pose.root_pos.tolist(), pose.root_quat.tolist(),
                                                physicsClientId=self.client)
        self._p.resetJointStatesMultiDof(self.body, _POSED_JOINTS, targets, physicsClientId=self.client)

    def link_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """World frames of every link's joint (after :meth:`set_pose`).

        Returns:
            tuple[np.ndarray, np.ndarray]: positions (L, 3) metres and orientations (L, 3, 3) rotation matrices
            (columns = the link's x, y, z axes in the world), L = 15 links in pybullet link order.
        """
        states = self._p.getLinkStates(self.body, list(range(self.num_links)), computeForwardKinematics=1,
                                       physicsClientId=self.client)
        pos = np.array([s[4] for s in states], dtype=np.float64)
        rot = Rotation.from_quat(np.array([s[5] for s in states])).as_matrix()
        return pos, rot

    def coco17(self) -> np.ndarray:
        """(17, 3) float64 COCO-17 joints of the current pose in world metres (:func:`coco17_from_links`)."""
        return coco17_from_links(*self.link_frames())

    def joints_for(self, poses: HumanoidPose) -> np.ndarray:
        """COCO-17 joints for a sequence of poses.

        Args:
            poses (HumanoidPose): T poses (e.g. from :func:`~vpd_mm.mocap.deepmimic.interpolate_motion`).

        Returns:
            np.ndarray: (T, 17, 3) float64 metres.
        """
        out = np.empty((len(poses), 17, 3), dtype=np.float64)
        for t in range(len(poses)):
            self.set_pose(poses[t])
            out[t] = self.coco17()
        return out


def load_deepmimic_clip(path: str, fps: Optional[float] = None, cycles: int = 1) -> tuple[np.ndarray, float]:
    """COCO-17 3D joints of a DeepMimic clip, by forward kinematics of the pybullet humanoid.

    Frames are sampled at ``t = k / fps`` for ``k = 0 .. floor(cycles * duration * fps)``; with ``fps=None`` the
    clip's native keyframe rate is used, which returns the stored keyframes themselves for clips with constant
    keyframe durations (all but ``roll``, whose one odd keyframe is interpolated over).

    Args:
        path (str): a ``humanoid3d_*.txt`` file (see :func:`~vpd_mm.mocap.deepmimic.deepmimic_clip_paths`) or
            an installed clip's name.
        fps (float, optional): output frame rate. Defaults to the clip's keyframe rate.
        cycles (int): how many cycles to play (``wrap`` clips advance their root each cycle; ``none`` clips hold
            their last pose). Defaults to 1.

    Returns:
        tuple[np.ndarray, float]: joints (T, 17, 3) float64 metres in pybullet's world frame (+y up, rest pose
        facing +x, right side +z; the root's travel is kept, no centring), and the frame rate.

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
