"""Cropped-athlete inputs for the end-to-end baselines (TSN, TRN, GSM): the 128x128 crops and optical flow the
VPD student sees, read from the corpus ``crops/`` and ``flow/`` (:class:`~vpd_mm.corpus.crop_store.CropStore`).

Pipeline (mmaction2's own TSN transforms around two of ours)::

    CropActionDataset -> SampleFrames (mmaction2; segments over the action's frames) -> CropDecode
      -> Resize / MultiScaleCrop / Flip (RGB) or FlipStackedFlow (Flow) -> FormatShape -> PackActionInputs

A sample's frames are the frames of its window that have a crop (RGB) or a flow field (Flow), in order;
``total_frames`` is their number and ``start_index`` 0, so mmaction2's ``SampleFrames`` draws TSN segments over
exactly those frames and :class:`CropDecode` maps the drawn indices back to frame numbers.

Flow is served the way mmaction2's flow models expect their TV-L1 JPEGs: each frame an ``(H, W, 2)`` uint8 image,
``dx`` then ``dy``, ``128 + round(127 * clip(flow / bound, -1, 1))`` (``bound`` = the store's clip, 20 px): zero
flow is exactly 128 and ``+-bound`` is 255 / 1, so a flip negates ``dx`` exactly as ``256 - v``, and the flow configs
normalise with mean 128 / std 128 as mmaction2's do.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from mmcv.transforms import BaseTransform
from mmaction.registry import DATASETS, TRANSFORMS

from .baseline_actions import CorpusActionDataset
from ..corpus.corpus import Action
from ..corpus.corpus import Corpus
from ..corpus.crop_store import FLOW_CLIP, CropStore

__all__ = ['CropActionDataset', 'CropDecode', 'FlipStackedFlow', 'flow_to_uint8']


def flow_to_uint8(flow: np.ndarray, bound: float = FLOW_CLIP) -> np.ndarray:
    """Map flow in pixels to mmaction2's flow-image convention.

    Args:
        flow (np.ndarray): (..., 2) float flow in pixels.
        bound (float): magnitude mapped to 0 / 255.

    Returns:
        np.ndarray: (..., 2) uint8 in [1, 255], ``128 + round(127 * clip(flow / bound, -1, 1))`` (zero flow -> 128).
    """
    scaled = np.rint(np.clip(np.asarray(flow, np.float32) / np.float32(bound), -1, 1) * 127) + 128
    return scaled.astype(np.uint8)


@DATASETS.register_module()
class CropActionDataset(CorpusActionDataset):
    """Actions as the sequence of their athlete crops (``modality='RGB'``) or flow fields (``'Flow'``).

    Args:
        data_root (str): the corpus folder (with ``crops/``, and ``flow/`` for the flow stream).
        modality (str): ``'RGB'`` or ``'Flow'``.
        **kwargs: :class:`~vpd_mm.datasets.baseline_actions.CorpusActionDataset` arguments (``split``,
            ``classes``, ``window``, ``carve_val``, ``carve_seed``, ``fewshot_file``, ``pipeline``, ...).

    Each sample: ``frames`` (T,) int32 frame numbers, ``total_frames`` T, ``corpus_root``, plus the base fields.
    An action whose video has no crops (flow), or none inside its window, is skipped and counted.
    """

    def __init__(self, data_root: str, modality: str = 'RGB', **kwargs: Any) -> None:
        if modality not in ('RGB', 'Flow'):
            raise ValueError(f"modality must be 'RGB' or 'Flow', got {modality!r}")
        self.store = Corpus(data_root).crops
        super().__init__(data_root, modality=modality, **kwargs)

    def action_info(self, action: Action, start: int, end: int) -> dict[str, Any] | str:
        """The crop (or flow) frames of ``[start, end)``."""
        flow = self.modality == 'Flow'
        if not (self.store.has_flow(action.video_id) if flow else self.store.has_crops(action.video_id)):
            return f'no {"flow" if flow else "crops"}/{action.video_id}'
        frames = self.store.flow_frames(action.video_id) if flow else self.store.crop_frames(action.video_id)
        frames = frames[(frames >= start) & (frames < end)]
        if not len(frames):
            return f'no {"flow" if flow else "crop"} frame in [{start}, {end}) of {action.video_id}'
        return dict(frames=frames.astype(np.int32), total_frames=int(len(frames)), corpus_root=self.corpus.root)


@TRANSFORMS.register_module()
class CropDecode(BaseTransform):
    """Load the crops (RGB) or flow images (Flow) of the sampled frames.

    Required keys: ``corpus_root``, ``video_id``, ``frames`` (T,), ``frame_inds`` (indices into ``frames``, from
    ``SampleFrames``), ``modality``. Added keys: ``imgs`` (list of (128, 128, 3) uint8 RGB, or (128, 128, 2)
    uint8 flow images, see :func:`flow_to_uint8`), ``img_shape``, ``original_shape``.

    Args:
        flow_bound (float): flow magnitude (pixels) mapped to 0 / 255. Defaults to the store's clip (20).
    """

    _stores: dict[str, CropStore] = {}  # one store per corpus and process (memory maps, fork-safe)

    def __init__(self, flow_bound: float = FLOW_CLIP) -> None:
        self.flow_bound = flow_bound

    @classmethod
    def store(cls, root: str) -> CropStore:
        """The cached :class:`CropStore` of ``root``."""
        if root not in cls._stores:
            cls._stores[root] = Corpus(root).crops
        return cls._stores[root]

    def transform(self, results: dict) -> dict:
        """Decode the sampled frames."""
        store = self.store(results['corpus_root'])
        video, frames = results['video_id'], np.asarray(results['frames'])
        inds = np.asarray(results['frame_inds']).reshape(-1)
        if inds.size and (inds.min() < 0 or inds.max() >= len(frames)):
            raise IndexError(f'{video}: frame_inds {inds.min()}..{inds.max()} outside the action\'s '
                             f'{len(frames)} frames (SampleFrames must run with start_index 0)')
        if results.get('modality', 'RGB') == 'Flow':
            imgs = [flow_to_uint8(store.read_flow(video, int(f)), self.flow_bound) for f in frames[inds]]
        else:
            imgs = [store.read_crop(video, int(f)) for f in frames[inds]]
        results['imgs'] = imgs
        results['img_shape'] = results['original_shape'] = imgs[0].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(flow_bound={self.flow_bound})'


@TRANSFORMS.register_module()
class FlipStackedFlow(BaseTransform):
    """Horizontal flip of ``(H, W, 2)`` flow images (``dx``, ``dy`` stacked), with ``dx`` negated.

    mmaction2's ``Flip`` expects flow as separate x / y images and inverts every other image, so on the stacked
    ``(H, W, 2)`` images its own ``RawFrameDecode`` (and :class:`CropDecode`) produce it inverts both channels of
    every other frame and neither of the rest. This transform negates ``dx`` of every frame exactly (``256 - v``
    in the :func:`flow_to_uint8` convention) and leaves ``dy``.

    Required keys: ``imgs``. Added keys: ``flip``, ``flip_direction``.

    Args:
        flip_ratio (float): probability of flipping. Defaults to 0.5.
    """

    def __init__(self, flip_ratio: float = 0.5) -> None:
        self.flip_ratio = flip_ratio

    def transform(self, results: dict) -> dict:
        """Flip all frames of the sample, or none."""
        flip = bool(np.random.rand() < self.flip_ratio)
        if flip:
            flipped = []
            for img in results['imgs']:
                img = np.ascontiguousarray(img[:, ::-1])
                img[..., 0] = np.clip(256 - img[..., 0].astype(np.int16), 0, 255)
                flipped.append(img)
            results['imgs'] = flipped
        results['flip'] = flip
        results['flip_direction'] = 'horizontal'
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(flip_ratio={self.flip_ratio})'
