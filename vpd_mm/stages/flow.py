"""Optical flow from the previous crop to the current one, at crop resolution, in pixels.

Methods:

- ``'farneback'`` (the default): OpenCV's Farneback dense flow on grey crops (3 pyramid levels, window 15);
- ``'dis'``: OpenCV's DIS optical flow (``DISOpticalFlow``, preset MEDIUM) on grey crops;
- ``'raft'``: torchvision's RAFT (``raft_large`` or ``raft_small``, told apart by the weights file) on the RGB
  crops, only with a user-supplied torchvision state-dict file (loaded with ``torch.load(weights_only=True)``);
  on the GPU when there is one. The reference used RAFT with 20 refinement iterations.

``benchmarks/prepare_throughput.py`` measures the speed of each method and their end-point error on known
translations of a textured crop: Farneback is the default because it is far more accurate there (mean EPE about
0.3 px against about 3.3 px for DIS, which loses motions of 10 px and more at 128 x 128), at about 60% of DIS's
speed (both run at hundreds of crops per second per core; RAFT on a CPU core at a few per second).

Output: ``flow/<video_id>/`` (:class:`~vpd_mm.corpus.crop_store.CropStore`), written atomically per video,
clipped to +-20 px and quantised symmetrically (zero flow decodes to exactly 0.0). Videos with complete flow are
skipped, so a killed run resumes.
"""
from __future__ import annotations

import logging
import os.path as osp
from functools import partial
from typing import Any, Callable, Sequence

import cv2
import numpy as np

from ..corpus import Corpus
from ..corpus.crop_store import encode_flow
from .runner import StageError, for_each_video

__all__ = ['FLOW_METHODS', 'DEFAULT_FLOW_METHOD', 'opencv_flow', 'RaftFlow', 'load_raft', 'make_flow_fn',
           'extract_video_flow', 'extract_flow']

logger = logging.getLogger(__name__)

FLOW_METHODS = ('farneback', 'dis', 'raft')
DEFAULT_FLOW_METHOD = 'farneback'
RAFT_ITERS = 20

FlowFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


# ------------------------------------------------------------------------------------------------ OpenCV
def opencv_flow(prev: np.ndarray, current: np.ndarray, method: str = DEFAULT_FLOW_METHOD) -> np.ndarray:
    """Dense flow from ``prev`` to ``current`` with an OpenCV method.

    Args:
        prev (np.ndarray): (N, H, W, 3) or (H, W, 3) uint8 RGB.
        current (np.ndarray): same shape as ``prev``.
        method (str): ``'farneback'`` or ``'dis'``.

    Returns:
        np.ndarray: (N, H, W, 2) or (H, W, 2) float32 flow in pixels: ``prev(p) ~ current(p + flow(p))``.
    """
    if method not in ('farneback', 'dis'):
        raise ValueError(f"unknown OpenCV flow method {method!r}; expected 'farneback' or 'dis'")
    single = prev.ndim == 3
    prev_b, cur_b = (prev[None], current[None]) if single else (prev, current)
    if prev_b.shape != cur_b.shape:
        raise ValueError(f'prev {prev.shape} and current {current.shape} differ in shape')
    out = np.zeros(prev_b.shape[:3] + (2,), dtype=np.float32)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) if method == 'dis' else None
    for i in range(len(prev_b)):
        a = cv2.cvtColor(np.ascontiguousarray(prev_b[i]), cv2.COLOR_RGB2GRAY)
        b = cv2.cvtColor(np.ascontiguousarray(cur_b[i]), cv2.COLOR_RGB2GRAY)
        if dis is not None:
            out[i] = dis.calc(a, b, None)
        else:
            out[i] = cv2.calcOpticalFlowFarneback(a, b, None, pyr_scale=0.5, levels=3, winsize=15,
                                                  iterations=3, poly_n=5, poly_sigma=1.2, flags=0)
    return out[0] if single else out


# ------------------------------------------------------------------------------------------------ RAFT
def load_raft(weights: str, device: str | None = None) -> Any:
    """torchvision RAFT with the weights of a local state-dict file.

    Args:
        weights (str): a torchvision RAFT state dict (``raft_large`` or ``raft_small``; a dict with a
            ``'state_dict'`` or ``'model'`` entry holding it also works), loaded with ``weights_only=True``.
        device (str, optional): torch device; default ``'cuda'`` when available, else ``'cpu'``.

    Returns:
        torch.nn.Module: the model in eval mode on ``device``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a torchvision RAFT state dict (the message names it).
    """
    import torch
    from torchvision.models.optical_flow import raft_large, raft_small

    if not osp.isfile(weights):
        raise FileNotFoundError(f'{weights}: RAFT weights file does not exist')
    try:
        state = torch.load(weights, map_location='cpu', weights_only=True)
    except Exception as error:  # unpickling errors have many types
        raise ValueError(f'{weights}: cannot load RAFT weights with weights_only=True ({error})') from None
    for key in ('state_dict', 'model'):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not state:
        raise ValueError(f'{weights}: expected a state dict of torchvision raft_large or raft_small')
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    for name, build in (('raft_large', raft_large), ('raft_small', raft_small)):
        with torch.device('meta'):  # shapes only, no weight initialisation
            expected = build(weights=None, progress=False).state_dict()
        if set(expected) == set(state) and all(expected[k].shape == state[k].shape for k in expected):
            model = build(weights=None, progress=False)
            model.load_state_dict(state)
            device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
            logger.info('RAFT: %s weights from %s on %s', name, weights, device)
            return model.eval().to(device)
    raise ValueError(f'{weights}: not a torchvision raft_large or raft_small state dict '
                     f'({len(state)} tensors, e.g. {sorted(state)[:2]}); the princeton-vl RAFT checkpoints use '
                     'other names and must be converted first')


class RaftFlow:
    """Callable ``(prev, current) -> flow`` with torchvision RAFT (see :func:`load_raft`).

    Args:
        weights (str): RAFT state-dict file.
        device (str, optional): torch device (default: CUDA when available).
        iters (int): refinement iterations (the reference used 20).
        batch_size (int): crops per forward pass.
    """

    def __init__(self, weights: str, device: str | None = None, iters: int = RAFT_ITERS,
                 batch_size: int = 32) -> None:
        self.model = load_raft(weights, device)
        self.device = next(self.model.parameters()).device
        self.iters = iters
        self.batch_size = batch_size

    def __call__(self, prev: np.ndarray, current: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB pairs (H, W multiples of 8, >= 128) -> (N, H, W, 2) float32 flow in pixels."""
        import torch

        if (prev.shape != current.shape or prev.ndim != 4 or prev.shape[1] % 8 or prev.shape[2] % 8
                or min(prev.shape[1:3]) < 128):
            raise ValueError(f'RAFT needs (N, H, W, 3) pairs with H, W multiples of 8, at least 128, got '
                             f'{prev.shape}, {current.shape}')
        out = np.zeros(prev.shape[:3] + (2,), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(prev), self.batch_size):
                part = slice(start, start + self.batch_size)
                a, b = (torch.from_numpy(np.ascontiguousarray(x[part])).to(self.device).permute(0, 3, 1, 2)
                        .float().div(127.5).sub(1.0) for x in (prev, current))
                flow = self.model(a, b, num_flow_updates=self.iters)[-1]
                out[part] = flow.permute(0, 2, 3, 1).float().cpu().numpy()
        return out


def make_flow_fn(method: str = DEFAULT_FLOW_METHOD, raft_weights: str | None = None,
                 device: str | None = None) -> FlowFn:
    """A batched flow function ``(prev, current) -> flow`` for ``method`` (see :data:`FLOW_METHODS`).

    Raises:
        ValueError: unknown method, or ``'raft'`` without ``raft_weights``.
    """
    if method not in FLOW_METHODS:
        raise ValueError(f'unknown flow method {method!r}; expected one of {FLOW_METHODS}')
    if method == 'raft':
        if not raft_weights:
            raise ValueError("flow method 'raft' needs a torchvision RAFT weights file (raft_weights / "
                             "--raft-weights PATH); nothing is downloaded. Use 'farneback' or 'dis' offline.")
        return RaftFlow(raft_weights, device)
    return partial(opencv_flow, method=method)


# ------------------------------------------------------------------------------------------------ extraction
def extract_video_flow(corpus: Corpus, video_id: str, flow_fn: FlowFn, method: str,
                       batch_size: int = 64) -> dict[str, int]:
    """Compute and write the flow of one video's crops (``flow/<video_id>/``, atomic, streamed in batches).

    Returns:
        dict[str, int]: ``frames`` written.

    Raises:
        StageError: the video has no complete crops.
    """
    store = corpus.crops
    if not store.has_crops(video_id):
        raise StageError(f'{store.crop_dir(video_id)}: no complete crops (run tools/data/extract_crops.py first)')
    frames = store.crop_frames(video_id)
    size = int(store.crop_meta(video_id).get('size', 128))
    with store.flow_writer(video_id) as writer:
        for start in range(0, len(frames), batch_size):
            part = frames[start:start + batch_size]
            pairs = [store.read_crops(video_id, int(f)) for f in part]
            flows = flow_fn(np.stack([p[1] for p in pairs]), np.stack([p[0] for p in pairs]))
            for frame, flow in zip(part, flows):
                writer.add(int(frame), [encode_flow(flow)])
        writer.commit(store.flow_info(video_id, len(frames), method, size))
    return dict(frames=len(frames))


def _flow_done(corpus: Corpus, method: str, video_id: str) -> bool:
    """Complete flow of ``method`` exists; complete flow of another method is an error (not silently kept)."""
    store = corpus.crops
    if not store.has_flow(video_id):
        return False
    have = store.flow_meta(video_id).get('method')
    if have != method:
        raise StageError(f'{store.flow_dir(video_id)}: holds {have!r} flow, asked for {method!r}; pass '
                         'overwrite=True (--overwrite) to recompute it')
    return True


def extract_flow(corpus: Corpus, method: str = DEFAULT_FLOW_METHOD, raft_weights: str | None = None,
                 video_ids: Sequence[str] | None = None, progress: bool = True, device: str | None = None,
                 overwrite: bool = False, on_error: str = 'count', workers: int = 1) -> dict[str, Any]:
    """Compute the flow of every video's crops on the stage runner; resumable (complete videos are skipped).

    Args:
        corpus (Corpus): the corpus (needs ``crops/``, see :func:`~vpd_mm.stages.crops.extract_crops`).
        method (str): ``'farneback'`` (default), ``'dis'`` or ``'raft'`` (needs ``raft_weights``).
        raft_weights (str, optional): torchvision RAFT state-dict file.
        video_ids (Sequence[str], optional): videos (default: every video with a track).
        progress (bool): show a tqdm progress bar.
        device (str, optional): torch device for RAFT (default: CUDA when available, else CPU).
        overwrite (bool): recompute videos whose flow exists (needed to switch methods).
        on_error (str): ``'count'`` or ``'raise'`` (see :func:`~vpd_mm.stages.runner.for_each_video`).
        workers (int): processes for the OpenCV methods (RAFT runs in this process).

    Returns:
        dict: the runner's summary (``videos``, ``written``, ``skipped``, ``errors``, ``failed``, ``seconds``) and
        ``frames``. A video whose flow was made by another method, or that has no crops, is a failed video.

    Raises:
        ValueError: unknown method, RAFT without weights or with a bad weights file, RAFT with ``workers > 1``.
    """
    if method == 'raft' and workers > 1:
        raise ValueError('RAFT flow runs in one process (it batches on the device); use workers=1')
    flow_fn = make_flow_fn(method, raft_weights, device)
    ids = list(video_ids) if video_ids is not None else corpus.video_ids()
    return for_each_video(ids, partial(extract_video_flow, corpus, flow_fn=flow_fn, method=method),
                          done=partial(_flow_done, corpus, method), overwrite=overwrite, on_error=on_error,
                          workers=workers, desc=f'flow ({method})', progress=progress, counters=('frames',),
                          outputs=[corpus.path('flow')])
