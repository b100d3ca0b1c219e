"""Teacher stage 1: an mmpose top-down model on the tracked athlete box of every frame -> ``pose/<video>.npz``.

Any mmpose 1.x top-down config works; the default is HRNet-W32 COCO 256x192 from the mmpose wheel. Frames are
decoded with decord and estimated in batches of (frame, box) pairs through the model's own test pipeline (the
same steps as ``mmpose.apis.inference_topdown``, batched across frames), on the GPU when there is one.
Keypoints are in image pixels; scores are the heatmap maxima clipped to [0, 1]. Track boxes with zero width or
height (no detection) give NaN keypoints and scores and are counted.
"""
from __future__ import annotations

import glob
import os.path as osp
from functools import partial
from typing import Any, Optional, Sequence

import numpy as np

from ..corpus import Corpus, CorpusFormatError, PoseTrack, Track
from .runner import for_each_video

__all__ = ['DEFAULT_POSE_CONFIG', 'mmpose_config_path', 'published_weights', 'build_pose_model',
           'estimate_poses', 'video_pose', 'pose_on_corpus']

DEFAULT_POSE_CONFIG = 'body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py'
"""HRNet-W32, COCO, 256x192 (AP 0.746), relative to the configs shipped in the mmpose wheel."""


def _mmpose_configs() -> str:
    import mmpose
    return osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs')


def mmpose_config_path(config: Optional[str] = None) -> str:
    """Resolve a config: an existing file, or a path relative to the mmpose wheel's ``configs/`` folder.

    Args:
        config (str, optional): defaults to :data:`DEFAULT_POSE_CONFIG`.

    Returns:
        str: an existing config file.

    Raises:
        FileNotFoundError: if neither exists.
    """
    config = config or DEFAULT_POSE_CONFIG
    if osp.isfile(config):
        return config
    inside = osp.join(_mmpose_configs(), config)
    if osp.isfile(inside):
        return inside
    raise FileNotFoundError(f'{config}: mmpose config not found (neither a file nor inside {_mmpose_configs()})')


def published_weights(config: str) -> Optional[tuple[str, str]]:
    """The model name and weights URL that mmpose's metafiles list for a config shipped in the wheel.

    Args:
        config (str): a config path inside the mmpose wheel (or relative to its ``configs/``).

    Returns:
        tuple[str, str] | None: ``(name, url)``, or None for a config no metafile lists.
    """
    import yaml
    root = _mmpose_configs()
    path = osp.abspath(mmpose_config_path(config))
    if not path.startswith(osp.abspath(root) + osp.sep):
        return None
    rel = osp.relpath(path, osp.dirname(root))  # 'configs/body_2d_keypoint/...'
    for meta in sorted(glob.glob(osp.join(osp.dirname(path), '*.yml'))):
        with open(meta) as f:
            data = yaml.safe_load(f) or {}
        for model in data.get('Models', []) if isinstance(data, dict) else []:
            if isinstance(model, dict) and model.get('Config') == rel and model.get('Weights'):
                return str(model.get('Name', osp.splitext(osp.basename(rel))[0])), str(model['Weights'])
    return None


def build_pose_model(config: Optional[str], checkpoint: str, device: Optional[str] = None) -> Any:
    """Build an mmpose top-down model and load its weights.

    Args:
        config (str, optional): config file or path inside the mmpose wheel (default HRNet-W32 COCO 256x192).
        checkpoint (str): local weights file (mmengine loads it through vpd_mm's ``weights_only`` allow-list).
        device (str, optional): ``'cuda:0'`` when available, else ``'cpu'``.

    Returns:
        the model (``mmpose.models.TopdownPoseEstimator``), in eval mode.

    Raises:
        FileNotFoundError: if the config or the checkpoint is missing; for a missing checkpoint the message names
            the mmpose model and the URL its weights are published at.
        CheckpointMismatchError: the checkpoint's weights do not fit the model exactly (missing, unexpected or
            mis-shaped keys).
        UnsafeCheckpointError | CheckpointReadError: the file is refused or unreadable.
    """
    import torch
    from mmpose.apis import init_model
    path = mmpose_config_path(config)
    if not osp.isfile(checkpoint):
        found = published_weights(path)
        where = (f'the weights of mmpose model {found[0]} are published at {found[1]}' if found else
                 f'no mmpose metafile lists weights for {path}')
        raise FileNotFoundError(f'{checkpoint}: checkpoint does not exist; {where} '
                                '(download it and pass its local path with --checkpoint)')
    from mmengine.registry import DefaultScope

    from ..compat import load_checkpoint_file
    from ..engine.checkpoint import load_weights
    device = device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    with DefaultScope.overwrite_default_scope('mmpose'):  # init_model switches scopes; keep the caller's
        model = init_model(path, checkpoint=None, device='cpu')
    # mmpose's init_model loads non-strictly (a checkpoint of another model would leave random weights):
    # the weights must fit exactly
    saved = load_checkpoint_file(checkpoint, map_location='cpu')
    state = saved.get('state_dict', saved) if isinstance(saved, dict) else saved
    if isinstance(state, dict):
        state = {key[len('module.'):] if key.startswith('module.') else key: value for key, value in state.items()}
    load_weights(model, state, checkpoint)
    meta = saved.get('meta') if isinstance(saved, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get('dataset_meta'), dict):
        model.dataset_meta = meta['dataset_meta']
    return model.to(device).eval()


def estimate_poses(model: Any, frames: Sequence[np.ndarray], boxes_xyxy: np.ndarray) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """Top-down pose estimation of one box per frame, as one batch.

    Args:
        model: an mmpose top-down model (:func:`build_pose_model`).
        frames (Sequence[np.ndarray]): N BGR images (H, W, 3) uint8.
        boxes_xyxy (np.ndarray): (N, 4) boxes ``[x1, y1, x2, y2]`` in pixels, one per frame.

    Returns:
        tuple[np.ndarray, np.ndarray]: keypoints (N, 17, 2) float32 pixels and scores (N, 17) float32 in [0, 1].
    """
    import torch
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import DefaultScope

    if len(frames) == 0:
        return np.zeros((0, 17, 2), np.float32), np.zeros((0, 17), np.float32)
    with DefaultScope.overwrite_default_scope(model.cfg.get('default_scope', 'mmpose')):
        pipeline = getattr(model, '_vpd_test_pipeline', None)
        if pipeline is None:
            pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
            model._vpd_test_pipeline = pipeline
        data = []
        for frame, box in zip(frames, np.asarray(boxes_xyxy, dtype=np.float32)):
            info = dict(img=frame, bbox=box[None], bbox_score=np.ones(1, dtype=np.float32))
            info.update(model.dataset_meta)
            data.append(pipeline(info))
        with torch.no_grad():
            results = model.test_step(pseudo_collate(data))
    keypoints = np.stack([r.pred_instances.keypoints[0] for r in results]).astype(np.float32)
    scores = np.stack([r.pred_instances.keypoint_scores[0] for r in results]).astype(np.float32)
    if keypoints.shape[1] != 17:
        raise ValueError(f'the pose model predicts {keypoints.shape[1]} keypoints; vpd_mm needs COCO-17')
    return keypoints, np.clip(scores, 0.0, 1.0)


def video_pose(model: Any, video_path: str, track: Track, batch_size: int = 32,
               progress: Optional[Any] = None) -> tuple[PoseTrack, int]:
    """Pose of the tracked athlete in every tracked frame of one video.

    Args:
        model: an mmpose top-down model.
        video_path (str): the video (decoded with decord).
        track (Track): frames (T,) and boxes (T, 4) ``[x, y, w, h]``.
        batch_size (int): (frame, box) pairs per forward pass. Defaults to 32.
        progress (tqdm, optional): a progress bar advanced by the number of frames done.

    Returns:
        tuple[PoseTrack, int]: the poses (boxes as in the track) and the number of frames without a detection
        (zero-area box; NaN keypoints and scores).

    Raises:
        CorpusFormatError: if the video cannot be opened or a tracked frame is beyond its end.
    """
    import decord
    try:
        reader = decord.VideoReader(video_path, ctx=decord.cpu(0))
    except Exception as error:  # decord raises its own DECORDError
        raise CorpusFormatError(video_path, 'file', f'cannot decode video ({error})') from None
    frames = np.asarray(track.frames, dtype=np.int64)
    if len(frames) and frames[-1] >= len(reader):
        raise CorpusFormatError(video_path, 'frames', f'track frame {int(frames[-1])} is beyond the video end '
                                f'({len(reader)} frames)')
    boxes = np.asarray(track.boxes, dtype=np.float32)
    keypoints = np.full((len(frames), 17, 2), np.nan, dtype=np.float32)
    scores = np.full((len(frames), 17), np.nan, dtype=np.float32)
    detected = (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    todo = np.flatnonzero(detected)
    for start in range(0, len(todo), batch_size):
        rows = todo[start:start + batch_size]
        images = reader.get_batch(frames[rows].tolist()).asnumpy()[..., ::-1]  # RGB -> BGR, as mmpose expects
        xyxy = np.concatenate([boxes[rows, :2], boxes[rows, :2] + boxes[rows, 2:]], axis=1)
        keypoints[rows], scores[rows] = estimate_poses(model, list(np.ascontiguousarray(images)), xyxy)
        if progress is not None:
            progress.update(len(rows))
    if progress is not None:
        progress.update(int((~detected).sum()))
    pose = PoseTrack(frames=frames.astype(np.int32), keypoints=keypoints, scores=scores, boxes=boxes)
    return pose, int((~detected).sum())


def _video_pose_file(corpus: Corpus, model: Any, batch_size: int, video_id: str) -> dict[str, int]:
    """Estimate and write ``pose/<video_id>.npz``; returns the video's ``frames`` and ``no_detection`` counts."""
    pose, missing = video_pose(model, corpus.video_path(video_id), corpus.read_track(video_id), batch_size)
    corpus.write_pose(video_id, pose)
    return dict(frames=len(pose.frames), no_detection=missing)


def pose_on_corpus(corpus: Corpus, model: Any, batch_size: int = 32, overwrite: bool = False,
                   progress: bool = True, video_ids: Sequence[str] | None = None,
                   on_error: str = 'count') -> dict[str, Any]:
    """Run :func:`video_pose` on every tracked video (on the stage runner) and write ``pose/<video>.npz``.

    Videos whose pose file exists are skipped (writes are atomic, so it is complete): a killed run resumes.

    Args:
        corpus (Corpus): the corpus (``tracks/`` and ``videos/``).
        model: an mmpose top-down model.
        batch_size (int): (frame, box) pairs per forward pass. Defaults to 32.
        overwrite (bool): recompute existing pose files. Defaults to False.
        progress (bool): show a progress bar over videos. Defaults to True.
        video_ids (Sequence[str], optional): only these videos (default: every video with a track).
        on_error (str): ``'count'`` or ``'raise'`` (see :func:`~vpd_mm.stages.runner.for_each_video`).

    Returns:
        dict: the runner's summary (``videos``, ``written``, ``skipped``, ``errors``, ``failed``, ``seconds``),
        ``frames`` (estimated) and ``no_detection`` (frames with a zero-area box).

    Raises:
        CorpusFormatError: if the corpus has no tracks.
    """
    ids = corpus.video_ids() if video_ids is None else list(video_ids)
    if not ids:
        raise CorpusFormatError(corpus.path('tracks'), 'folder', 'no track files')
    return for_each_video(ids, partial(_video_pose_file, corpus, model, batch_size),
                          done=lambda v: osp.exists(corpus.path('pose', v + '.npz')), overwrite=overwrite,
                          on_error=on_error, desc='pose (mmpose)', progress=progress,
                          counters=('frames', 'no_detection'), outputs=[corpus.path('pose')])
