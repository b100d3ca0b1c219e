"""VIPE* training data from the DeepMimic motion capture: 3D-pose files written by ``tools/data/prepare_mocap.py``.

The joints are those of :func:`vpd_mm.mocap.load_deepmimic_clip` (forward kinematics of pybullet's humanoid), the
same skeleton as the rendered benchmark's ground truth.
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Optional, Sequence

from ..corpus.corpus import atomic_write_bytes
from ..mocap import VIPE_HELDOUT_CLIPS, VIPE_TRAIN_CLIPS, deepmimic_clip_paths, load_deepmimic_clip
from .pose3d import write_pose3d, yup_to_zup

__all__ = ['write_mocap_pose3d']


def write_mocap_pose3d(out_dir: str, fps: Optional[float] = 30.0, clips: Optional[Sequence[str]] = None,
                       overwrite: bool = False) -> dict[str, int]:
    """Write DeepMimic clips as VIPE* 3D-pose files (``<out_dir>/<clip>.npz``) plus ``splits.json``.

    Joints are rotated from pybullet's +y-up world into the 3D-pose format's +z-up frame
    (:func:`vpd_mm.teachers.pose3d.yup_to_zup`). ``splits.json`` holds ``train``
    (:data:`vpd_mm.mocap.VIPE_TRAIN_CLIPS`) and ``heldout`` (:data:`vpd_mm.mocap.VIPE_HELDOUT_CLIPS`), restricted
    to the clips written. Existing files are kept unless ``overwrite`` (every write is atomic, so an existing file
    is complete).

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
