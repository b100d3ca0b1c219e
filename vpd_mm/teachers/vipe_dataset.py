"""VIPE* training and evaluation samples from 3D-pose sequences (reference ``spec/reference_vpd.md`` 2.2-2.3).

Both datasets read a folder of 3D-pose files (:mod:`vpd_mm.teachers.pose3d` format). Which files: ``sequences``
(file stems), or ``split`` (a key of ``<data_root>/splits.json``, ``{"train": [...], "heldout": [...]}``), or
every ``*.npz`` in the folder.

- :class:`VIPEPairDataset` (training): a random frame of a sequence, seen from two random synthetic cameras (the
  positive pair), and a frame of the same sequence whose pose is at least ``min_neg_angle`` degrees away at some
  bone (the negative; up to ``max_neg_tries`` draws, else masked out). Each of the anchor and the negative is
  mirrored with probability ``flip_prob``. Items: ``inputs`` (3, 39) float32, ``data_samples`` =
  ``{target3d: (42,), neg_valid: ()}``.
- :class:`VIPEViewPairDataset` (evaluation): every ``frame_stride``-th frame of every sequence, seen from two
  random cameras (deterministic from ``seed``). Items: ``inputs`` (2, 39), ``data_samples`` =
  ``{pose2d: (2, 26) normalised 2D joints of the same views, seq: (), frame: ()}``.

Use them with ``collate_fn=dict(type='default_collate')``.

Differences from the reference: every view is synthetic (the reference also uses real detector outputs on the
datasets' own camera views, which need per-dataset 2D files); sequences are drawn equally often (the reference's
AMASS sample weights are computed but never used, ``reference_vpd.md`` 10.3 bug 8, so this is its actual
behaviour); a failed negative is a zero input with ``neg_valid = 0`` that is counted in ``neg_failures`` (the
reference's NBA2K fallback would crash, bug 8); the 3D regression target is :func:`pose3d_descriptor` (bone and
"up" directions in a body frame) instead of per-dataset bone offsets in a yaw-canonicalised frame.
"""
from __future__ import annotations

import glob
import json
import os.path as osp
from typing import Any, Optional, Sequence

import numpy as np
from mmaction.registry import DATASETS
from torch.utils.data import Dataset

from ..pose import pose2d_feature
from .pose3d import (max_bone_angle, mirror_pose3d, pose3d_descriptor, project_orthographic,
                     random_view_rotations, read_pose3d)
from .vipe_input import vipe_input

__all__ = ['load_pose3d_sequences', 'synthetic_view_inputs', 'sample_negative', 'VIPEPairDataset',
           'VIPEViewPairDataset']


def load_pose3d_sequences(data_root: str, split: Optional[str] = None,
                          sequences: Optional[Sequence[str]] = None) -> dict[str, np.ndarray]:
    """Read the selected 3D-pose files of a folder.

    Args:
        data_root (str): folder of ``<name>.npz`` 3D-pose files.
        split (str, optional): a key of ``<data_root>/splits.json``.
        sequences (Sequence[str], optional): file stems; takes precedence over ``split``.

    Returns:
        dict[str, np.ndarray]: name -> (T, 17, 3) float64 joints, sorted by name.

    Raises:
        ValueError: on a missing folder, split or file, an empty selection, or an invalid file (the message names
            the file).
    """
    if not osp.isdir(data_root):
        raise ValueError(f'{data_root}: 3D-pose folder does not exist')
    if sequences is None and split is not None:
        split_path = osp.join(data_root, 'splits.json')
        if not osp.isfile(split_path):
            raise ValueError(f'{split_path}: does not exist (needed for split={split!r})')
        with open(split_path) as f:
            splits = json.load(f)
        if split not in splits:
            raise ValueError(f'{split_path}: no split {split!r} (has {sorted(splits)})')
        sequences = splits[split]
    if sequences is None:
        sequences = [osp.basename(p)[:-4] for p in sorted(glob.glob(osp.join(data_root, '*.npz')))]
    if not sequences:
        raise ValueError(f'{data_root}: no 3D-pose sequences selected (split={split!r})')
    return {name: read_pose3d(osp.join(data_root, name + '.npz'))[0].astype(np.float64)
            for name in sorted(sequences)}


def synthetic_view_inputs(joints: np.ndarray, rotations: np.ndarray, rng: np.random.Generator,
                          flip: bool = False, keypoint_noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Project one 3D pose through several cameras and build VIPE* inputs.

    Confidences are drawn from U(0.5, 1) per joint (eyes and ears 0), as the reference's synthetic views.

    Args:
        joints (np.ndarray): (17, 3) pose, +z up.
        rotations (np.ndarray): (V, 3, 3) camera rotations.
        rng (np.random.Generator): random source for the confidences and the noise.
        flip (bool): mirror the 2D poses (through the normalisation). Defaults to False.
        keypoint_noise (float): std of Gaussian noise added to the normalised coordinates. Defaults to 0.

    Returns:
        tuple[np.ndarray, np.ndarray]: VIPE* inputs (V, 39) float32 and the raw projections (V, 17, 2).
    """
    views = project_orthographic(joints[None], rotations)
    scores = rng.uniform(0.5, 1.0, size=(len(rotations), 17))
    scores[:, 1:5] = 0.0
    x = vipe_input(views, scores, flip=flip)
    if keypoint_noise > 0:
        x = x.reshape(len(x), 13, 3)
        x[..., :2] += rng.normal(0.0, keypoint_noise, size=x[..., :2].shape).astype(np.float32)
        x = x.reshape(len(x), 39)
    return x, views


def sample_negative(rng: np.random.Generator, anchor_desc: np.ndarray, desc: np.ndarray, desc_mirror: np.ndarray,
                    min_angle: float = 45.0, max_tries: int = 10,
                    flip_prob: float = 0.5) -> Optional[tuple[int, bool]]:
    """Draw a negative frame of a sequence: some bone at least ``min_angle`` degrees from the anchor's.

    Args:
        rng (np.random.Generator): random source.
        anchor_desc (np.ndarray): (14, 3) :func:`pose3d_descriptor` of the (possibly mirrored) anchor.
        desc (np.ndarray): (T, 14, 3) descriptors of the sequence.
        desc_mirror (np.ndarray): (T, 14, 3) descriptors of the mirrored sequence.
        min_angle (float): degrees. Defaults to 45.
        max_tries (int): random draws before giving up. Defaults to 10.
        flip_prob (float): probability that a candidate is mirrored. Defaults to 0.5.

    Returns:
        tuple[int, bool] | None: (frame, mirrored) of the negative, or None when every draw was too similar.
    """
    for _ in range(max_tries):
        u = int(rng.integers(len(desc)))
        flip = bool(rng.random() < flip_prob)
        cand = desc_mirror[u] if flip else desc[u]
        if max_bone_angle(None, None, descriptors=(anchor_desc, cand)) >= min_angle:
            return u, flip
    return None


class _Pose3DSource:
    """Sequences, their yaw-invariant descriptors and those of their mirror images."""

    def __init__(self, data_root: str, split: Optional[str], sequences: Optional[Sequence[str]]) -> None:
        self.data = load_pose3d_sequences(data_root, split, sequences)
        self.names = list(self.data)
        self.joints = [self.data[n] for n in self.names]
        self.desc = [pose3d_descriptor(j) for j in self.joints]
        self.desc_mirror = [pose3d_descriptor(mirror_pose3d(j)) for j in self.joints]

    @property
    def metainfo(self) -> dict[str, Any]:
        return dict(sequences=self.names, frames=[len(j) for j in self.joints])


@DATASETS.register_module()
class VIPEPairDataset(Dataset):
    """VIPE* training triples from 3D-pose sequences (see the module docstring).

    Args:
        data_root (str): folder of 3D-pose files.
        split (str, optional): key of ``splits.json``.
        sequences (Sequence[str], optional): file stems (take precedence over ``split``).
        samples_per_epoch (int): dataset length; item ``i`` uses sequence ``i mod S`` (sequences equally often,
            as the reference) and a random frame. Defaults to 20000.
        max_yaw (float): camera yaw range, degrees. Defaults to 180.
        max_elevation (float): camera elevation range, degrees. Defaults to 30.
        max_roll (float): camera roll range, degrees. Defaults to 30.
        min_neg_angle (float): a negative differs from the anchor by at least this angle at some bone (degrees).
            Defaults to 45.
        max_neg_tries (int): draws before giving up on a negative (it is then masked out). Defaults to 10.
        flip_prob (float): probability of mirroring the anchor pair, and independently the negative.
            Defaults to 0.5.
        keypoint_noise (float): std of noise on normalised 2D coordinates (0 = the reference). Defaults to 0.
        seed (int, optional): seed of the sample stream in the main process (None: derived from torch's seed,
            which ``tools/train.py --seed`` sets); dataloader workers mix it with their own per-epoch torch seed.
    """

    def __init__(self, data_root: str, split: Optional[str] = None, sequences: Optional[Sequence[str]] = None,
                 samples_per_epoch: int = 20000, max_yaw: float = 180.0, max_elevation: float = 30.0,
                 max_roll: float = 30.0, min_neg_angle: float = 45.0, max_neg_tries: int = 10,
                 flip_prob: float = 0.5, keypoint_noise: float = 0.0, seed: Optional[int] = None) -> None:
        self.source = _Pose3DSource(data_root, split, sequences)
        self.samples_per_epoch = int(samples_per_epoch)
        self.view_range = (max_yaw, max_elevation, max_roll)
        self.min_neg_angle = min_neg_angle
        self.max_neg_tries = max_neg_tries
        self.flip_prob = flip_prob
        self.keypoint_noise = keypoint_noise
        self.seed = seed
        self._rng: Optional[np.random.Generator] = None
        self.neg_failures = 0

    @property
    def metainfo(self) -> dict[str, Any]:
        """Sequence names and frame counts."""
        return self.source.metainfo

    def __len__(self) -> int:
        return self.samples_per_epoch

    def _generator(self) -> np.random.Generator:
        if self._rng is None:
            import torch
            import torch.utils.data
            info = torch.utils.data.get_worker_info()
            if info is not None:  # workers are re-created every epoch with a new torch seed each
                entropy = [info.seed, 0 if self.seed is None else self.seed]
            elif self.seed is not None:
                entropy = [self.seed]
            else:  # follows the process' torch seed (tools/train.py --seed)
                entropy = [torch.initial_seed()]
            self._rng = np.random.default_rng(entropy)
        return self._rng

    def __getitem__(self, index: int) -> dict[str, Any]:
        rng = self._generator()
        s = index % len(self.source.names)
        joints, desc, desc_mirror = self.source.joints[s], self.source.desc[s], self.source.desc_mirror[s]
        t = int(rng.integers(len(joints)))
        flip = bool(rng.random() < self.flip_prob)
        anchor_desc = desc_mirror[t] if flip else desc[t]
        rotations = random_view_rotations(rng, 3, *self.view_range)
        pair, _ = synthetic_view_inputs(joints[t], rotations[:2], rng, flip=flip,
                                        keypoint_noise=self.keypoint_noise)
        neg = np.zeros((1, pair.shape[1]), dtype=np.float32)
        neg_valid = 0.0
        found = sample_negative(rng, anchor_desc, desc, desc_mirror, self.min_neg_angle, self.max_neg_tries,
                                self.flip_prob)
        if found is None:
            self.neg_failures += 1  # masked out of the loss (neg_valid = 0), as in the reference
        else:
            neg, _ = synthetic_view_inputs(joints[found[0]], rotations[2:], rng, flip=found[1],
                                           keypoint_noise=self.keypoint_noise)
            neg_valid = 1.0
        return dict(inputs=np.concatenate([pair, neg], axis=0),
                    data_samples=dict(target3d=anchor_desc.reshape(-1).astype(np.float32),
                                      neg_valid=np.float32(neg_valid)))


@DATASETS.register_module()
class VIPEViewPairDataset(Dataset):
    """View-invariance evaluation pairs: every selected frame seen from two random cameras.

    Args:
        data_root (str): folder of 3D-pose files.
        split (str, optional): key of ``splits.json``.
        sequences (Sequence[str], optional): file stems (take precedence over ``split``).
        frame_stride (int): use every this many frames. Defaults to 1.
        max_yaw (float): camera yaw range, degrees. Defaults to 180.
        max_elevation (float): camera elevation range, degrees. Defaults to 30.
        max_roll (float): camera roll range, degrees. Defaults to 30.
        seed (int): the views of item ``i`` depend only on ``(seed, i)``. Defaults to 0.
    """

    def __init__(self, data_root: str, split: Optional[str] = None, sequences: Optional[Sequence[str]] = None,
                 frame_stride: int = 1, max_yaw: float = 180.0, max_elevation: float = 30.0,
                 max_roll: float = 30.0, seed: int = 0) -> None:
        if frame_stride < 1:
            raise ValueError(f'frame_stride must be >= 1, got {frame_stride}')
        self.source = _Pose3DSource(data_root, split, sequences)
        self.items = [(s, t) for s, joints in enumerate(self.source.joints)
                      for t in range(0, len(joints), frame_stride)]
        self.view_range = (max_yaw, max_elevation, max_roll)
        self.seed = seed

    @property
    def metainfo(self) -> dict[str, Any]:
        """Sequence names and frame counts."""
        return self.source.metainfo

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        s, t = self.items[index]
        rng = np.random.default_rng((self.seed, index))
        rotations = random_view_rotations(rng, 2, *self.view_range)
        x, views = synthetic_view_inputs(self.source.joints[s][t], rotations, rng)
        return dict(inputs=x, data_samples=dict(pose2d=pose2d_feature(views), seq=np.int64(s),
                                                frame=np.int64(t)))
