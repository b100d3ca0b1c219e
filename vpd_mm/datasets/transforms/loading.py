"""Load the athlete crop and its optical flow from a corpus's crop store."""
from __future__ import annotations

from typing import Any

import cv2

from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform

from ...corpus.corpus import Corpus, CorpusFormatError
from ...corpus.crop_store import CropStore

__all__ = ['LoadCropAndFlow']


@TRANSFORMS.register_module()
class LoadCropAndFlow(BaseTransform):
    """Read the crop (and flow) of ``results['video_id']``, ``results['frame']`` from ``crops/`` and ``flow/``.

    Required keys: ``corpus_root``, ``video_id``, ``frame``; optional ``with_flow`` (set by ``VPDFrameDataset``).
    Added keys: ``img`` (H, W, 3) uint8 RGB; ``flow`` (H, W, 2) float32 pixels, previous -> current (with flow);
    ``prev_img`` (H, W, 3) uint8 RGB (with ``with_prev``). Corpora carry no person masks, so no ``mask`` is added.

    Args:
        size (int, optional): resize crop and flow to ``size x size`` after loading (area interpolation; flow
            values scaled by the same factor so they stay in pixels of the resized crop). Default None: keep the
            stored 128 x 128 (the method's input). Only the tiny CPU config uses it, for speed.
        with_flow (bool, optional): also load the flow; None (default) follows ``results['with_flow']``, itself
            True when absent, so the RGB-only ablation is one dataset switch (``with_flow=False``).
        with_prev (bool): also decode and keep the previous-frame crop. Default False (the student does not see
            it; only the current crop is decoded, with :meth:`CropStore.read_crop`).

    Raises:
        CorpusFormatError: the crops or flow of the video are missing or corrupt, or lack the frame (the message
            names the folder and the frame).
    """

    def __init__(self, size: int | None = None, with_flow: bool | None = None, with_prev: bool = False) -> None:
        self.size, self.with_flow, self.with_prev = size, with_flow, with_prev
        self._stores: dict[str, CropStore] = {}

    def _store(self, root: str) -> CropStore:
        store = self._stores.get(root)
        if store is None:
            store = self._stores[root] = Corpus(root).crops
        return store

    def transform(self, results: dict[str, Any]) -> dict[str, Any]:
        store = self._store(results['corpus_root'])
        video_id, frame = results['video_id'], int(results['frame'])
        try:
            if self.with_prev:
                results['img'], results['prev_img'] = store.read_crops(video_id, frame)
            else:  # one JPEG decode: the previous crop stored next to it is not read
                results['img'] = store.read_crop(video_id, frame)
        except KeyError:
            raise CorpusFormatError(store.crop_dir(video_id), f'frame {frame}', 'no crop for this frame') from None
        with_flow = results.get('with_flow', True) if self.with_flow is None else self.with_flow
        if with_flow:
            try:
                results['flow'] = store.read_flow(video_id, frame)
            except KeyError:
                raise CorpusFormatError(store.flow_dir(video_id), f'frame {frame}',
                                        'no flow for this frame') from None
        if self.size is not None:
            self._resize(results)
        return results

    def _resize(self, results: dict[str, Any]) -> None:
        size = (self.size, self.size)
        height, width = results['img'].shape[:2]
        if (height, width) == size:
            return
        for key in ('img', 'prev_img'):
            if key in results:
                results[key] = cv2.resize(results[key], size, interpolation=cv2.INTER_AREA)
        if 'flow' in results:
            flow = cv2.resize(results['flow'], size, interpolation=cv2.INTER_AREA)
            flow[..., 0] *= self.size / width
            flow[..., 1] *= self.size / height
            results['flow'] = flow

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, with_flow={self.with_flow}, '
                f'with_prev={self.with_prev})')
