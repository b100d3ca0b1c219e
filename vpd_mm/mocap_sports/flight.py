"""What a fine-grained class does in flight, measured from 3D ground-truth joints: turns about the vertical,
the body's shape (hip and knee flexion). Used to check that every class shows its defining quantity."""
from __future__ import annotations

import numpy as np

__all__ = ['heading_turn', 'axial_turn', 'flexion', 'flight_quantities']

# COCO-17 indices
_L_SHOULDER, _R_SHOULDER, _L_HIP, _R_HIP, _L_KNEE, _R_KNEE, _L_ANKLE, _R_ANKLE = 5, 6, 11, 12, 13, 14, 15, 16


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors ``a`` and ``b`` (..., 3)."""
    cos = (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-9)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def heading_turn(joints: np.ndarray) -> float:
    """Signed rotation (degrees) about the vertical (+y) of the body's left-right axis over the frames.

    The left-right axis is the mean of the shoulder and hip lines (left to right), projected on the ground plane
    and unwrapped frame to frame, so several turns add up.

    Args:
        joints (np.ndarray): (T, 17, 3) metres, +y up.
    """
    lateral = (joints[:, _R_SHOULDER] - joints[:, _L_SHOULDER]) + (joints[:, _R_HIP] - joints[:, _L_HIP])
    angle = np.unwrap(np.arctan2(lateral[:, 0], lateral[:, 2]))
    return float(np.degrees(angle[-1] - angle[0]))


def axial_turn(joints: np.ndarray) -> float:
    """Signed rotation (degrees) of the body about its own long axis over the frames (turns and twists).

    The long axis is the trunk (mid-hip to mid-shoulder); the left-right axis (shoulder and hip lines) is
    parallel-transported from frame to frame by the smallest rotation that carries the previous long axis onto
    the current one, and the remaining angle about the long axis is summed. A salto (rotation about the
    left-right axis) adds nothing; a turn of an upright body equals its heading turn.

    Args:
        joints (np.ndarray): (T, 17, 3).
    """
    axis = (joints[:, _L_SHOULDER] + joints[:, _R_SHOULDER] - joints[:, _L_HIP] - joints[:, _R_HIP]) / 2
    axis = axis / np.linalg.norm(axis, axis=1, keepdims=True)
    lateral = (joints[:, _R_SHOULDER] - joints[:, _L_SHOULDER]) + (joints[:, _R_HIP] - joints[:, _L_HIP])
    lateral = lateral - (lateral * axis).sum(1, keepdims=True) * axis
    lateral = lateral / np.linalg.norm(lateral, axis=1, keepdims=True)
    total = 0.0
    for t in range(1, len(joints)):
        a, b, prev = axis[t - 1], axis[t], lateral[t - 1]
        cross, cos = np.cross(a, b), float(np.dot(a, b))
        if np.linalg.norm(cross) > 1e-9:  # Rodrigues: the minimal rotation a -> b applied to prev
            k = cross / np.linalg.norm(cross)
            sin = np.linalg.norm(cross)
            prev = prev * cos + np.cross(k, prev) * sin + k * np.dot(k, prev) * (1 - cos)
        total += np.degrees(np.arctan2(np.dot(np.cross(prev, lateral[t]), b), np.dot(prev, lateral[t])))
    return float(total)


def flexion(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hip and knee flexion (degrees, 0 = straight) of each frame, the mean of both legs.

    Hip flexion is 180 minus the angle between the trunk (hip to shoulder) and the thigh (hip to knee); knee
    flexion is 180 minus the angle between the thigh (knee to hip) and the shank (knee to ankle).

    Args:
        joints (np.ndarray): (T, 17, 3).

    Returns:
        tuple[np.ndarray, np.ndarray]: hip (T,), knee (T,).
    """
    hip = np.mean([180 - _angle(joints[:, s] - joints[:, h], joints[:, k] - joints[:, h])
                   for s, h, k in ((_L_SHOULDER, _L_HIP, _L_KNEE), (_R_SHOULDER, _R_HIP, _R_KNEE))], axis=0)
    knee = np.mean([180 - _angle(joints[:, h] - joints[:, k], joints[:, a] - joints[:, k])
                    for h, k, a in ((_L_HIP, _L_KNEE, _L_ANKLE), (_R_HIP, _R_KNEE, _R_ANKLE))], axis=0)
    return hip, knee


def flight_quantities(joints: np.ndarray) -> dict[str, float]:
    """The defining quantities of a flight, from its frames' 3D joints (take-off to landing).

    Args:
        joints (np.ndarray): (T, 17, 3) joints of the airborne frames.

    Returns:
        dict: ``turns`` (rotations about the vertical), ``twists`` (rotations about the body's long axis; equal
        to ``turns`` for an upright body), both unsigned, and ``hip`` and ``knee`` (the largest flexion in the
        middle third of the flight, degrees).
    """
    hip, knee = flexion(joints)
    third = len(joints) // 3
    middle = slice(third, max(len(joints) - third, third + 1))
    return dict(turns=abs(heading_turn(joints)) / 360.0, twists=abs(axial_turn(joints)) / 360.0,
                hip=float(hip[middle].max()),
                knee=float(knee[middle].max()))
