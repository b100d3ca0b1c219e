"""Teacher features from raw 2D poses: the 2D-joint teacher, VIPE*, and concatenations (Concat-VPD, Diving48).

Every function maps a :class:`~vpd_mm.datasets.PoseTrack` (or two feature tracks) to a
:class:`~vpd_mm.datasets.FeatureTrack` with ``feats`` (T, 2, d) = [original, mirrored] and ``scores`` (T,).
Frames whose pose has a non-finite joint or confidence get all-NaN feature rows and a NaN score (never zeros);
:func:`invalid_pose_frames` tells which.

- 2D joints (reference ``dummy_2d_features.py``): d = 26, ``normalize_2d`` without / with ``flip``; score = mean
  confidence of the 13 kept joints.
- VIPE* (reference ``apply_vipe_model.py``): d = 64; the mirrored row is the embedding of the mirrored 2D pose
  (re-normalised with ``flip=True`` and re-embedded, not a transformed vector); score = mean confidence of all
  17 joints (the reference's choice for VIPE* files, eyes and ears included).
- ``with_inverted``: the features of the pose concatenated with those of the vertically inverted pose
  (reference ``--invert`` + ``stack_features.py``; the Diving48 VIPE* teacher, d = 128).
- :func:`concat_feature_tracks`: per-frame concatenation of two tracks (Concat-VPD); score = min of the two.
"""
from __future__ import annotations

import os.path as osp
from typing import Optional

import numpy as np

from ..corpus import CorpusFormatError, FeatureTrack, PoseTrack
from ..pose import keypoint_score, pose2d_feature, valid_mask
from .vipe_input import vipe_input

__all__ = ['invalid_pose_frames', 'pose2d_teacher', 'vipe_teacher', 'concat_feature_tracks',
           'load_vipe_embedder', 'VIPE_MODEL_TYPES']


def invalid_pose_frames(pose: PoseTrack) -> np.ndarray:
    """(T,) bool: frames with a non-finite joint coordinate or confidence."""
    return ~valid_mask(pose.keypoints) | ~np.isfinite(pose.scores).all(axis=-1)


def _track(pose: PoseTrack, original: np.ndarray, mirrored: np.ndarray, scores: np.ndarray) -> FeatureTrack:
    feats = np.stack([original, mirrored], axis=1).astype(np.float32)
    bad = invalid_pose_frames(pose)
    feats[bad] = np.nan
    scores = np.where(bad, np.nan, scores).astype(np.float32)
    return FeatureTrack(frames=pose.frames.astype(np.int32), feats=feats, scores=scores)


def pose2d_teacher(pose: PoseTrack, with_inverted: bool = False) -> FeatureTrack:
    """The 2D-joint teacher.

    Args:
        pose (PoseTrack): raw poses, (T, 17, 2) keypoints and (T, 17) scores.
        with_inverted (bool): concatenate the features of the vertically inverted pose (d = 52). Defaults to
            False.

    Returns:
        FeatureTrack: feats (T, 2, 26) ``[pose2d_feature(k), pose2d_feature(k, flip=True)]``, scores (T,) = mean
        confidence of the 13 kept joints.
    """
    original = pose2d_feature(pose.keypoints)
    mirrored = pose2d_feature(pose.keypoints, flip=True)
    if with_inverted:
        original = np.concatenate([original, pose2d_feature(pose.keypoints, invert=True)], axis=-1)
        mirrored = np.concatenate([mirrored, pose2d_feature(pose.keypoints, flip=True, invert=True)], axis=-1)
    return _track(pose, original, mirrored, keypoint_score(pose.scores))


def _embed(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    out = np.full((len(x), model.embed_dim), np.nan, dtype=np.float32)
    ok = np.isfinite(x).all(axis=-1)
    if ok.any():
        out[ok] = model.embed_numpy(x[ok], batch_size=batch_size)
    return out


def vipe_teacher(model, pose: PoseTrack, with_inverted: bool = False, batch_size: int = 4096) -> FeatureTrack:
    """The VIPE* teacher.

    Args:
        model (VIPEEmbedder): a trained embedder (evaluated in eval mode on its own device).
        pose (PoseTrack): raw poses.
        with_inverted (bool): concatenate the embedding of the vertically inverted pose (the Diving48 teacher,
            d = 128). Defaults to False.
        batch_size (int): poses per forward pass. Defaults to 4096.

    Returns:
        FeatureTrack: feats (T, 2, d) ``[f(vipe_input(k, s)), f(vipe_input(k, s, flip=True))]`` (plus the
        inverted halves), scores (T,) = mean confidence of all 17 joints.
    """
    def both(invert: bool) -> tuple[np.ndarray, np.ndarray]:
        return (_embed(model, vipe_input(pose.keypoints, pose.scores, invert=invert), batch_size),
                _embed(model, vipe_input(pose.keypoints, pose.scores, flip=True, invert=invert), batch_size))

    original, mirrored = both(False)
    if with_inverted:
        inv_original, inv_mirrored = both(True)
        original = np.concatenate([original, inv_original], axis=-1)
        mirrored = np.concatenate([mirrored, inv_mirrored], axis=-1)
    scores = np.asarray(pose.scores, dtype=np.float64).mean(axis=-1)
    return _track(pose, original, mirrored, scores)


def concat_feature_tracks(a: FeatureTrack, b: FeatureTrack, name_a: str = 'a', name_b: str = 'b') -> FeatureTrack:
    """Concatenate two feature tracks of one video frame by frame (Concat-VPD, or two teachers).

    Args:
        a (FeatureTrack): (T, 2, d1).
        b (FeatureTrack): (T, 2, d2), same frames.
        name_a (str): name of ``a`` for error messages (e.g. its file).
        name_b (str): name of ``b`` for error messages.

    Returns:
        FeatureTrack: feats (T, 2, d1 + d2); scores = min of the two (NaN if either is NaN).

    Raises:
        CorpusFormatError: if the frame numbers differ (names both).
    """
    if not np.array_equal(a.frames, b.frames):
        raise CorpusFormatError(name_b, 'frames', f'{name_a} and {name_b} have different frames ({len(a.frames)} vs {len(b.frames)} '
                         'frames, or different frame numbers); concatenation needs the same frames')
    return FeatureTrack(frames=a.frames, feats=np.concatenate([a.feats, b.feats], axis=-1).astype(np.float32),
                        scores=np.minimum(a.scores, b.scores).astype(np.float32))


VIPE_MODEL_TYPES = ('VIPEEmbedder',)


def load_vipe_embedder(checkpoint: str, config: Optional[str] = None, device: Optional[str] = None):
    """Load a VIPE* checkpoint saved by ``tools/train.py configs/vipe/...``.

    The model is rebuilt from the user's training config when given, otherwise from the checkpoint's data-only
    model description (``meta['model_spec']``, JSON written by :class:`~vpd_mm.engine.ModelSpecHook`, whose
    ``type`` must be in :data:`VIPE_MODEL_TYPES`). The Python text of the checkpoint's ``meta['cfg']`` is never
    executed. The weights must fit the model exactly.

    Args:
        checkpoint (str): the ``.pth`` file.
        config (str, optional): the training config file.
        device (str, optional): ``'cuda'`` when available, else ``'cpu'``.

    Returns:
        VIPEEmbedder: in eval mode on ``device``.

    Raises:
        ValueError: naming the file, if it is missing, holds no usable model description, is not a VIPE* model,
            or its weights do not fit (missing, unexpected or mis-shaped keys).
        vpd_mm.compat.UnsafeCheckpointError: the file pickles objects outside the checkpoint allow-list.
    """
    import torch
    from mmaction.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner.checkpoint import _load_checkpoint

    from ..engine.checkpoint import load_weights, read_model_spec
    from .vipe_model import VIPEEmbedder

    if not osp.isfile(checkpoint):
        raise ValueError(f'{checkpoint}: VIPE* checkpoint does not exist')
    state = _load_checkpoint(checkpoint, map_location='cpu')
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint}: not an mmengine checkpoint (got {type(state).__name__})')
    if config is not None:
        spec = dict(Config.fromfile(config).model)
        if spec.get('type') not in VIPE_MODEL_TYPES:
            raise ValueError(f'{config}: the model is {spec.get("type")!r}, not one of {list(VIPE_MODEL_TYPES)}')
    else:
        spec = read_model_spec(state, checkpoint, VIPE_MODEL_TYPES)
    with DefaultScope.overwrite_default_scope('mmaction'):  # VIPEEmbedder lives in mmaction's registry
        try:
            model = MODELS.build(spec)
        except TypeError as error:
            raise ValueError(f'{checkpoint}: cannot build {spec.get("type")} from its description ({error})') \
                from None
    if not isinstance(model, VIPEEmbedder):
        raise ValueError(f'{checkpoint}: the description builds {type(model).__name__}, not a VIPEEmbedder')
    load_weights(model, state.get('state_dict', state), checkpoint)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    return model.to(device).eval()
