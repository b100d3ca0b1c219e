"""3D-pose sequences for VIPE* training: the file format, converters and the geometry of training samples.

**File format** (one sequence per file, written by ``tools/data/prepare_mocap.py`` and
``tools/data/convert_3d_poses.py``): an npz without pickle holding

- ``joints``: (T, 17, 3) float32, metres, COCO-17 joint order, right-handed world frame with **+z up**
  (the frame of Human3.6M and AMASS); any origin (samples are centred on the hip midpoint);
- ``fps``: float scalar, frames per second.

**Geometry** used to build samples (reference: ``spec/reference_vpd.md`` section 2.3):

- :func:`view_rotation` / :func:`project_orthographic`: a synthetic camera turns the body about the vertical
  (yaw), then tilts it (elevation about x, roll about y) and projects orthographically onto the image (x, -z)
  (pixel y points down; a person facing the camera has their left on the image's right, as in a real photo);
- :func:`pose3d_descriptor`: the unit directions of 13 bones and of the world "up" axis, expressed in a body frame
  built from the hips and the spine; it is unchanged by any rotation about the vertical, so two frames are
  "the same pose" for negative mining and for the 3D regression target exactly when they differ by a yaw;
- :func:`mirror_pose3d`: the left/right mirror of a 3D pose.
"""
from __future__ import annotations

import os.path as osp
from typing import Optional

import numpy as np

from ..corpus.corpus import atomic_write_bytes
from ..pose import COCO17_FLIP_INDEX

__all__ = [
    'POSE3D_JOINTS', 'BONES3D', 'DESCRIPTOR_DIM', 'read_pose3d', 'write_pose3d', 'yup_to_zup',
    'H36M32_TO_H36M17', 'h36m_to_coco17', 'smpl_to_coco17', 'SMPL_NOSE_OFFSET', 'load_joint_file',
    'convert_joint_file', 'view_rotation', 'random_view_rotations', 'project_orthographic', 'mirror_pose3d', 'body_frame', 'pose3d_descriptor', 'max_bone_angle'
]

POSE3D_JOINTS = 17
"""Joints per frame in the 3D-pose format (COCO-17)."""

BONES3D: tuple[tuple[int, int], ...] = (
    (11, 13), (13, 15), (12, 14), (14, 16),    # thighs, shins
    (5, 7), (7, 9), (6, 8), (8, 10),           # upper arms, forearms
    (12, 11), (11, 5), (12, 6), (6, 5),        # hips, flanks, shoulders
    (-1, 0))                                    # mid-shoulder -> nose (-1 = shoulder midpoint)
"""Bones (from, to) in COCO-17 indices compared for negatives and regressed by the 3D head."""

DESCRIPTOR_DIM = 3 * (len(BONES3D) + 1)
"""Size of the flattened :func:`pose3d_descriptor` (42): 13 bone directions and the up direction."""


# ------------------------------------------------------------------------------------------------ file format
def write_pose3d(path: str, joints: np.ndarray, fps: float) -> None:
    """Write one 3D-pose sequence (atomic).

    Args:
        path (str): output ``.npz`` file.
        joints (np.ndarray): (T, 17, 3) metres, COCO-17 order, +z up.
        fps (float): frame rate.

    Raises:
        ValueError: on a wrong shape, non-finite joints or a non-positive fps.
    """
    joints = _check_joints(path, np.asarray(joints))
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f'{path}: fps must be a positive number, got {fps}')
    atomic_write_bytes(path, lambda f: np.savez(f, joints=joints.astype(np.float32),
                                                fps=np.float64(fps)))


def read_pose3d(path: str) -> tuple[np.ndarray, float]:
    """Read and validate one 3D-pose sequence.

    Args:
        path (str): an ``.npz`` file in the 3D-pose format.

    Returns:
        tuple[np.ndarray, float]: joints (T, 17, 3) float32 metres and fps.

    Raises:
        ValueError: naming the file and the problem (missing file or field, wrong joint count, NaN, bad fps).
    """
    if not osp.isfile(path):
        raise ValueError(f'{path}: file does not exist')
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ('joints', 'fps') if k not in data.files]
            if missing:
                raise ValueError(f'{path}: field {missing[0]!r} missing (3D-pose files hold joints and fps)')
            joints, fps = data['joints'], data['fps']
    except (OSError, EOFError) as exc:
        raise ValueError(f'{path}: not a readable npz file ({exc})') from None
    joints = _check_joints(path, joints)
    if fps.shape != () or not np.isfinite(fps) or float(fps) <= 0:
        raise ValueError(f'{path}: fps must be a positive scalar, got {fps!r}')
    return joints.astype(np.float32), float(fps)


def _check_joints(path: str, joints: np.ndarray) -> np.ndarray:
    if joints.ndim != 3 or joints.shape[1:] != (POSE3D_JOINTS, 3):
        raise ValueError(f'{path}: joints must have shape (T, 17, 3) (COCO-17 x xyz), got {tuple(joints.shape)}')
    if len(joints) == 0:
        raise ValueError(f'{path}: joints is empty (0 frames)')
    if not np.isfinite(joints).all():
        bad = int(np.argmax(~np.isfinite(joints).all(axis=(1, 2))))
        raise ValueError(f'{path}: joints has non-finite values (first at frame {bad})')
    return joints


# ------------------------------------------------------------------------------------------------ converters
def yup_to_zup(joints: np.ndarray) -> np.ndarray:
    """Rotate points from a +y-up frame to the +z-up format frame: ``(x, y, z) -> (x, -z, y)`` (a rotation).

    Args:
        joints (np.ndarray): (..., 3) points, +y up.

    Returns:
        np.ndarray: (..., 3) the same points, +z up.
    """
    joints = np.asarray(joints)
    return np.stack([joints[..., 0], -joints[..., 2], joints[..., 1]], axis=-1)


H36M32_TO_H36M17: tuple[int, ...] = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
"""Indices of the common 17-joint Human3.6M skeleton inside the 32 joints of ``D3_Positions``."""

# H36M-17 order: 0 pelvis, 1 r_hip, 2 r_knee, 3 r_ankle, 4 l_hip, 5 l_knee, 6 l_ankle, 7 spine, 8 thorax,
# 9 nose (neck/nose), 10 head, 11 l_shoulder, 12 l_elbow, 13 l_wrist, 14 r_shoulder, 15 r_elbow, 16 r_wrist.
_H36M17_FOR_COCO = (9, 9, 9, 9, 9, 11, 14, 12, 15, 13, 16, 4, 1, 5, 2, 6, 3)


def h36m_to_coco17(joints: np.ndarray, units: str = 'mm') -> np.ndarray:
    """Human3.6M joint positions -> COCO-17 in the 3D-pose format.

    Accepts the 32 joints of the official ``D3_Positions`` files (``(T, 96)`` or ``(T, 32, 3)``) or the common
    17-joint subset (``(T, 17, 3)``, order of :data:`H36M32_TO_H36M17`). Human3.6M's world frame is +z up,
    so no rotation is needed. Human3.6M has no eyes or ears: the COCO eye and ear joints are copies of the
    nose (they are dropped by the 13-joint VIPE* input anyway).

    Args:
        joints (np.ndarray): (T, 96), (T, 32, 3) or (T, 17, 3) positions.
        units (str): ``'mm'`` (official files) or ``'m'``.

    Returns:
        np.ndarray: (T, 17, 3) float32 metres.

    Raises:
        ValueError: on any other shape or unit.
    """
    arr = np.asarray(joints, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 96:
        arr = arr.reshape(len(arr), 32, 3)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[1] not in (32, 17):
        raise ValueError(f'Human3.6M joints must be (T, 96), (T, 32, 3) or (T, 17, 3); got {arr.shape}')
    if arr.shape[1] == 32:
        arr = arr[:, H36M32_TO_H36M17]
    scale = {'mm': 1e-3, 'm': 1.0}.get(units)
    if scale is None:
        raise ValueError(f"units must be 'mm' or 'm', got {units!r}")
    return (arr[:, _H36M17_FOR_COCO] * scale).astype(np.float32)


# SMPL / SMPL-H / SMPL-X body joints 0..21: 0 pelvis, 1 l_hip, 2 r_hip, 3 spine1, 4 l_knee, 5 r_knee, 6 spine2,
# 7 l_ankle, 8 r_ankle, 9 spine3, 10 l_foot, 11 r_foot, 12 neck, 13 l_collar, 14 r_collar, 15 head,
# 16 l_shoulder, 17 r_shoulder, 18 l_elbow, 19 r_elbow, 20 l_wrist, 21 r_wrist.
_SMPL_FOR_COCO_BODY = {5: 16, 6: 17, 7: 18, 8: 19, 9: 20, 10: 21, 11: 1, 12: 2, 13: 4, 14: 5, 15: 7, 16: 8}
SMPL_NOSE_OFFSET = 0.10
"""Metres from the SMPL head joint to the synthesised nose, along the torso's forward direction."""


def smpl_to_coco17(joints: np.ndarray) -> np.ndarray:
    """SMPL-family body joints (as computed for AMASS) -> COCO-17 in the 3D-pose format.

    AMASS ships SMPL-H parameters; joint positions come from a body model (e.g. ``human_body_prior``'s
    ``BodyModel(...).Jtr``), in metres in AMASS's +z-up world. The first 22 joints must follow the SMPL order
    (pelvis, l_hip, r_hip, spine1, ...); further joints (hands, face) are ignored. SMPL has no nose: it is
    synthesised :data:`SMPL_NOSE_OFFSET` in front of the head joint (forward = torso normal, from the hips and
    the spine), and the eyes and ears are copies of the nose.

    Args:
        joints (np.ndarray): (T, J, 3) with J >= 22, metres, +z up.

    Returns:
        np.ndarray: (T, 17, 3) float32 metres.

    Raises:
        ValueError: if fewer than 22 joints are given.
    """
    arr = np.asarray(joints, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[1] < 22:
        raise ValueError(f'SMPL joints must be (T, J >= 22, 3) in SMPL order; got {arr.shape}')
    out = np.empty((len(arr), 17, 3), dtype=np.float64)
    for coco, smpl in _SMPL_FOR_COCO_BODY.items():
        out[:, coco] = arr[:, smpl]
    left = _unit(arr[:, 1] - arr[:, 2])
    up = _unit(arr[:, 12] - arr[:, 0])
    forward = _unit(np.cross(left, up))  # left x up = forward for a right-handed body frame
    out[:, 0:5] = (arr[:, 15] + SMPL_NOSE_OFFSET * forward)[:, None]
    return out.astype(np.float32)


def load_joint_file(path: str, key: Optional[str] = None) -> tuple[np.ndarray, Optional[float]]:
    """Read a user-supplied joint array: ``.npy``, or ``.npz`` (without pickle).

    For ``.npz``, the array is ``key``, else ``joints``, else ``positions``, else the file's only array; a
    ``mocap_framerate`` or ``fps`` scalar (as in AMASS files) is returned as the frame rate.

    Args:
        path (str): the file.
        key (str, optional): array name inside an ``.npz``.

    Returns:
        tuple[np.ndarray, float | None]: the array and the frame rate found in the file (None if none).

    Raises:
        ValueError: naming the file, if it is missing, unreadable, or the array cannot be found.
    """
    if not osp.isfile(path):
        raise ValueError(f'{path}: file does not exist')
    try:
        if path.endswith('.npy'):
            return np.load(path, allow_pickle=False), None
        with np.load(path, allow_pickle=False) as data:
            names = list(data.files)
            if key is None:
                arrays = [n for n in names if n not in ('mocap_framerate', 'fps')]
                key = next((n for n in ('joints', 'positions') if n in names),
                           arrays[0] if len(arrays) == 1 else None)
            if key is None or key not in names:
                raise ValueError(f'{path}: cannot tell which array holds the joints (arrays: {names}); '
                                 'pass --key')
            fps = next((float(data[n]) for n in ('mocap_framerate', 'fps') if n in names), None)
            return data[key], fps
    except (OSError, EOFError) as exc:
        raise ValueError(f'{path}: not a readable .npy/.npz file ({exc})') from None


def convert_joint_file(path: str, fmt: str, key: Optional[str] = None, units: str = 'mm',
                       fps: Optional[float] = None) -> tuple[np.ndarray, float]:
    """Convert one Human3.6M or AMASS joint file into the 3D-pose format (arrays; write with
    :func:`write_pose3d`).

    Args:
        path (str): ``.npy`` / ``.npz`` (see :func:`load_joint_file`).
        fmt (str): ``'h36m'`` (:func:`h36m_to_coco17`) or ``'amass'`` (:func:`smpl_to_coco17`).
        key (str, optional): array name inside an ``.npz``.
        units (str): Human3.6M units, ``'mm'`` or ``'m'``. Defaults to ``'mm'``.
        fps (float, optional): frame rate; overrides the file's. Human3.6M defaults to 50; AMASS needs the file's
            ``mocap_framerate`` or this argument.

    Returns:
        tuple[np.ndarray, float]: (T, 17, 3) float32 metres (+z up) and fps.

    Raises:
        ValueError: naming the file, on a wrong layout, a non-finite value or a missing frame rate.
    """
    array, file_fps = load_joint_file(path, key)
    try:
        if fmt == 'h36m':
            joints = h36m_to_coco17(array, units)
            rate = fps or file_fps or 50.0
        elif fmt == 'amass':
            joints = smpl_to_coco17(array)
            rate = fps or file_fps
            if rate is None:
                raise ValueError('no frame rate (the file has no mocap_framerate; pass --fps)')
        else:
            raise ValueError(f"unknown format {fmt!r} (expected 'h36m' or 'amass')")
    except ValueError as exc:
        raise ValueError(f'{path}: {exc}') from None
    _check_joints(path, joints)
    return joints, float(rate)


# ------------------------------------------------------------------------------------------------ geometry
def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 1e-12, n, 1.0)


def _rot_x(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def _rot_y(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _rot_z(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def view_rotation(yaw: np.ndarray, elevation: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Camera rotation ``R = R_y(roll) @ R_x(elevation) @ R_z(yaw)`` (angles in radians).

    Args:
        yaw (np.ndarray): (...) rotation about the vertical z axis.
        elevation (np.ndarray): (...) rotation about x (camera tilt).
        roll (np.ndarray): (...) rotation about y (the viewing axis).

    Returns:
        np.ndarray: (..., 3, 3) rotation matrices.
    """
    yaw, elevation, roll = (np.asarray(a, dtype=np.float64) for a in (yaw, elevation, roll))
    return _rot_y(roll) @ _rot_x(elevation) @ _rot_z(yaw)


def random_view_rotations(rng: np.random.Generator, n: int, max_yaw: float = 180.0,
                          max_elevation: float = 30.0, max_roll: float = 30.0) -> np.ndarray:
    """Random camera rotations: yaw ~ U(-max_yaw, max_yaw), elevation and roll likewise (degrees).

    Args:
        rng (np.random.Generator): random source.
        n (int): number of rotations.
        max_yaw (float): degrees. Defaults to 180.
        max_elevation (float): degrees. Defaults to 30.
        max_roll (float): degrees. Defaults to 30.

    Returns:
        np.ndarray: (n, 3, 3) rotation matrices.
    """
    angles = rng.uniform(-1.0, 1.0, size=(3, n)) * np.radians([[max_yaw], [max_elevation], [max_roll]])
    return view_rotation(angles[0], angles[1], angles[2])


def project_orthographic(joints: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Rotate 3D joints by a camera rotation and project them orthographically onto the image plane.

    The camera looks along +y with +z up, so the image point is ``(x', -z')`` of the rotated joints ``p' = R p``
    (pixel y grows downwards). The projection is in metres; scale and translation do not matter because the 2D
    poses are normalised afterwards.

    Args:
        joints (np.ndarray): (..., J, 3) points, +z up.
        rotation (np.ndarray): (..., 3, 3) rotation matrices (broadcast against the leading dims).

    Returns:
        np.ndarray: (..., J, 2) image coordinates.
    """
    rotated = np.einsum('...ij,...kj->...ki', rotation, np.asarray(joints, dtype=np.float64))
    return np.stack([rotated[..., 0], -rotated[..., 2]], axis=-1)


def mirror_pose3d(joints: np.ndarray) -> np.ndarray:
    """Left/right mirror of COCO-17 3D poses: swap every L/R joint and reflect x (the plane x = 0).

    Args:
        joints (np.ndarray): (..., 17, 3).

    Returns:
        np.ndarray: (..., 17, 3) mirrored poses (an improper transform: the mirror image of the person).
    """
    out = np.array(np.asarray(joints)[..., COCO17_FLIP_INDEX, :], dtype=np.float64)
    out[..., 0] = -out[..., 0]
    return out


def body_frame(joints: np.ndarray) -> np.ndarray:
    """Right-handed body frame from the hips and the spine.

    ``e_x`` = right hip -> left hip; ``e_z`` = hip midpoint -> shoulder midpoint, made orthogonal to ``e_x``;
    ``e_y = e_z x e_x``.

    Args:
        joints (np.ndarray): (..., 17, 3), +z up.

    Returns:
        np.ndarray: (..., 3, 3) matrices whose rows are ``e_x, e_y, e_z`` in world coordinates (so
        ``frame @ v`` expresses a world vector ``v`` in the body frame).
    """
    joints = np.asarray(joints, dtype=np.float64)
    ex = _unit(joints[..., 11, :] - joints[..., 12, :])
    spine = 0.5 * (joints[..., 5, :] + joints[..., 6, :]) - 0.5 * (joints[..., 11, :] + joints[..., 12, :])
    ez = _unit(spine - (spine * ex).sum(-1, keepdims=True) * ex)
    ey = np.cross(ez, ex)
    return np.stack([ex, ey, ez], axis=-2)


def pose3d_descriptor(joints: np.ndarray) -> np.ndarray:
    """Yaw-invariant description of 3D poses: bone and "up" directions in the body frame.

    Rows 0..12 are the unit directions of :data:`BONES3D`, row 13 the world +z axis, all expressed in
    :func:`body_frame`. Rotating a pose about the vertical axis leaves it unchanged; any other change of
    articulation or of the body's tilt changes it. It is the 3D regression target of VIPE* (flattened, 42
    values) and the basis of negative mining (:func:`max_bone_angle`).

    Args:
        joints (np.ndarray): (..., 17, 3), +z up.

    Returns:
        np.ndarray: (..., 14, 3) unit vectors.
    """
    joints = np.asarray(joints, dtype=np.float64)
    mid_shoulder = 0.5 * (joints[..., 5, :] + joints[..., 6, :])
    points = np.concatenate([joints, mid_shoulder[..., None, :]], axis=-2)  # index -1 = mid-shoulder
    src = np.array([a if a >= 0 else 17 for a, _ in BONES3D])
    dst = np.array([b for _, b in BONES3D])
    bones = _unit(points[..., dst, :] - points[..., src, :])
    up = np.broadcast_to(np.array([0.0, 0.0, 1.0]), bones.shape[:-2] + (1, 3))
    vectors = np.concatenate([bones, up], axis=-2)
    frame = body_frame(joints)
    return np.einsum('...ij,...kj->...ki', frame, vectors)


def max_bone_angle(a: np.ndarray, b: np.ndarray, degrees: bool = True,
                   descriptors: Optional[tuple[np.ndarray, np.ndarray]] = None) -> np.ndarray:
    """Largest angle between corresponding :func:`pose3d_descriptor` directions of two poses.

    A negative for VIPE* training must be at least 45 degrees away: ``max_bone_angle(anchor, neg) >= 45``.

    Args:
        a (np.ndarray): (..., 17, 3) poses.
        b (np.ndarray): (..., 17, 3) poses (broadcast against ``a``).
        degrees (bool): return degrees (else radians). Defaults to True.
        descriptors (tuple, optional): precomputed descriptors of ``a`` and ``b``.

    Returns:
        np.ndarray: (...) angles.
    """
    da, db = descriptors if descriptors is not None else (pose3d_descriptor(a), pose3d_descriptor(b))
    cos = np.clip((da * db).sum(-1), -1.0, 1.0).min(-1)
    angle = np.arccos(cos)
    return np.degrees(angle) if degrees else angle
