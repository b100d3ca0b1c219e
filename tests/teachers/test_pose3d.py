"""3D-pose format and the Human3.6M / AMASS converters (tools/data/convert_3d_poses.py) on tiny synthetic files."""
from __future__ import annotations

import json

import numpy as np
import pytest

from vpd_mm.teachers.pose3d import (h36m_to_coco17, read_pose3d, smpl_to_coco17, write_pose3d, yup_to_zup)

from .helpers import call_tool

TOOL = 'tools/data/convert_3d_poses.py'


def _h36m32(frames: int = 3) -> np.ndarray:
    """(T, 32, 3) in mm where joint j of frame t is at (1000 j + t, 2 j, 3 j): every joint is recognisable."""
    j = np.arange(32, dtype=np.float64)
    base = np.stack([1000 * j, 2 * j, 3 * j], axis=-1)
    return np.stack([base + [t, 0, 0] for t in range(frames)])


def test_h36m_mapping_by_hand():
    coco = h36m_to_coco17(_h36m32())
    assert coco.shape == (3, 17, 3) and coco.dtype == np.float32
    # D3_Positions indices: 14 nose/neck, 17/18/19 left shoulder/elbow/wrist, 25/26/27 right ones,
    # 6/7/8 left hip/knee/ankle, 1/2/3 right ones; x/1000 (mm -> m) recovers the index
    expected = [14, 14, 14, 14, 14, 17, 25, 18, 26, 19, 27, 6, 1, 7, 2, 8, 3]
    np.testing.assert_allclose(np.round(coco[0, :, 0]), expected)
    np.testing.assert_allclose(coco[2, :, 0] - coco[0, :, 0], 0.002, atol=1e-6)  # +2 mm over two frames
    # the flat (T, 96) layout and the 17-joint subset give the same result
    np.testing.assert_allclose(h36m_to_coco17(_h36m32().reshape(3, 96)), coco)
    subset = _h36m32()[:, [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27]]
    np.testing.assert_allclose(h36m_to_coco17(subset), coco)
    np.testing.assert_allclose(h36m_to_coco17(subset / 1000, units='m'), coco, rtol=1e-6)
    with pytest.raises(ValueError, match=r'Human3.6M joints must be .*got \(3, 20, 3\)'):
        h36m_to_coco17(np.zeros((3, 20, 3)))


def test_smpl_mapping_and_synthesised_nose():
    # SMPL body joints for a person standing at the origin, facing +x, +z up (left is +y)
    joints = np.zeros((1, 24, 3))
    named = {0: (0, 0, 0.9), 1: (0, 0.09, 0.85), 2: (0, -0.09, 0.85), 4: (0, 0.09, 0.45), 5: (0, -0.09, 0.45),
             7: (0, 0.09, 0.05), 8: (0, -0.09, 0.05), 12: (0, 0, 1.45), 15: (0, 0, 1.6), 16: (0, 0.18, 1.4),
             17: (0, -0.18, 1.4), 18: (0, 0.2, 1.12), 19: (0, -0.2, 1.12), 20: (0, 0.21, 0.86),
             21: (0, -0.21, 0.86)}
    for index, xyz in named.items():
        joints[0, index] = xyz
    coco = smpl_to_coco17(joints)
    for coco_index, smpl_index in {5: 16, 6: 17, 9: 20, 10: 21, 11: 1, 12: 2, 15: 7, 16: 8}.items():
        np.testing.assert_allclose(coco[0, coco_index], joints[0, smpl_index])
    np.testing.assert_allclose(coco[0, 0], [0.10, 0, 1.6], atol=1e-7)  # 10 cm in front of the head
    np.testing.assert_allclose(coco[0, 1:5], np.repeat(coco[0, :1], 4, axis=0))
    with pytest.raises(ValueError, match='J >= 22'):
        smpl_to_coco17(np.zeros((2, 17, 3)))


def test_format_round_trip_and_errors(tmp_path):
    joints = np.random.default_rng(0).normal(size=(4, 17, 3)).astype(np.float32)
    write_pose3d(str(tmp_path / 'a.npz'), joints, 25.0)
    back, fps = read_pose3d(str(tmp_path / 'a.npz'))
    np.testing.assert_array_equal(back, joints)
    assert fps == 25.0
    np.savez(tmp_path / 'wrong.npz', joints=np.zeros((4, 32, 3)), fps=25.0)
    with pytest.raises(ValueError, match=r'wrong.npz: joints must have shape \(T, 17, 3\) .*got \(4, 32, 3\)'):
        read_pose3d(str(tmp_path / 'wrong.npz'))
    np.savez(tmp_path / 'nofps.npz', joints=joints)
    with pytest.raises(ValueError, match="nofps.npz: field 'fps' missing"):
        read_pose3d(str(tmp_path / 'nofps.npz'))
    joints[2, 3, 1] = np.nan
    with pytest.raises(ValueError, match='non-finite values .first at frame 2'):
        write_pose3d(str(tmp_path / 'nan.npz'), joints, 25.0)
    # y-up -> z-up is a proper rotation
    basis = yup_to_zup(np.eye(3))
    assert np.linalg.det(basis) == pytest.approx(1.0)
    np.testing.assert_allclose(yup_to_zup(np.array([0.0, 1.0, 0.0])), [0, 0, 1])


def test_convert_tool_h36m_and_amass(tmp_path, capsys):
    h36m = tmp_path / 'h36m'
    for subject in ('S1', 'S9'):
        (h36m / subject).mkdir(parents=True)
        np.save(h36m / subject / 'Walking 1.npy', _h36m32().reshape(3, 96))
    out = tmp_path / 'out'
    assert call_tool(TOOL, ['--format', 'h36m', str(h36m), '--out', str(out), '--val-match', 'S9_']) is None
    assert 'written 2' in capsys.readouterr().out
    joints, fps = read_pose3d(str(out / 'S1_Walking_1.npz'))
    np.testing.assert_allclose(joints, h36m_to_coco17(_h36m32()))
    assert fps == 50.0
    assert json.loads((out / 'splits.json').read_text()) == {'train': ['S1_Walking_1'], 'val': ['S9_Walking_1']}

    amass = tmp_path / 'amass.npz'
    np.savez(amass, joints=np.random.default_rng(0).normal(size=(5, 52, 3)), mocap_framerate=120.0)
    assert call_tool(TOOL, ['--format', 'amass', str(amass), '--out', str(out)]) is None
    joints, fps = read_pose3d(str(out / 'amass.npz'))
    assert joints.shape == (5, 17, 3) and fps == 120.0
    # wrong layouts and missing frame rates are one-line errors naming the file
    bad = tmp_path / 'bad.npy'
    np.save(bad, np.zeros((5, 17, 3)))
    message = call_tool(TOOL, ['--format', 'amass', str(bad), '--out', str(out)])
    assert message.startswith(f'error: {bad}: SMPL joints must be (T, J >= 22, 3)')
    np.save(bad, np.zeros((5, 24, 3)))
    assert call_tool(TOOL, ['--format', 'amass', str(bad), '--out', str(out)]) == \
        f'error: {bad}: no frame rate (the file has no mocap_framerate; pass --fps)'
    two = tmp_path / 'two.npz'
    np.savez(two, a=np.zeros((5, 24, 3)), b=np.zeros((5, 24, 3)))
    assert 'cannot tell which array holds the joints' in call_tool(
        TOOL, ['--format', 'amass', str(two), '--out', str(out), '--fps', '30'])
