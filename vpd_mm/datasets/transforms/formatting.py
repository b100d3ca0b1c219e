"""Pack a crop (+ flow) and its distillation targets into the model's inputs and data sample."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample
from mmcv.transforms import BaseTransform

__all__ = ['PackDistillInputs']


@TRANSFORMS.register_module()
class PackDistillInputs(BaseTransform):
    """Stack RGB (+ flow) into a (C, H, W) float32 tensor and attach ``gt_pose`` / ``gt_motion``.

    Pixel values stay in 0-255 and flow in pixels; the model's ``ActionDataPreprocessor`` normalises all C
    channels at once (RGB by the per-dataset mean/std, flow by mean 0 and std 40, so +-20 px maps to +-0.5 and
    zero flow to exactly 0; the reference's decoding is not zero-centred, its bug 13).

    Required keys: ``img`` (H, W, 3); ``flow`` (H, W, 2) with ``with_flow``; optional ``target`` (2, d) and
    ``prev_target`` (2, d) (row 0 is used: after ``MirrorCropAndTarget`` it is the mirrored teacher row).
    Added keys: ``inputs`` (C, H, W) float32 tensor, ``data_samples`` (``ActionDataSample`` with ``gt_pose`` (d,)
    = p_t and, when ``prev_target`` is given, ``gt_motion`` (d,) = p_t - p_{t-1}; metainfo ``video_id``,
    ``frame``, ``flip``).

    Args:
        with_flow (bool, optional): 5 channels (True) or RGB only (False); None (default) follows
            ``results['with_flow']``, itself True when absent.
    """

    def __init__(self, with_flow: bool | None = None) -> None:
        self.with_flow = with_flow

    def transform(self, results: dict[str, Any]) -> dict[str, Any]:
        img = np.asarray(results['img'])
        with_flow = results.get('with_flow', True) if self.with_flow is None else self.with_flow
        if with_flow and 'flow' not in results:
            raise KeyError(f'PackDistillInputs(with_flow=True): no flow loaded for video '
                           f'{results.get("video_id")!r} frame {results.get("frame")}')
        height, width = img.shape[:2]
        inputs = np.empty((5 if with_flow else 3, height, width), np.float32)
        inputs[:3] = img.transpose(2, 0, 1)  # one strided copy into the (C, H, W) float32 block
        if with_flow:
            inputs[3:] = np.asarray(results['flow']).transpose(2, 0, 1)
        sample = ActionDataSample()
        # set field by field: set_metainfo deep-copies the dict, needless for a str, an int and a bool
        sample.set_field(results.get('video_id'), 'video_id', field_type='metainfo')
        sample.set_field(results.get('frame'), 'frame', field_type='metainfo')
        sample.set_field(bool(results.get('flip', False)), 'flip', field_type='metainfo')
        if 'target' in results:
            target = np.asarray(results['target'], dtype=np.float32)
            sample.gt_pose = torch.from_numpy(target[0].copy())
            if 'prev_target' in results:
                prev = np.asarray(results['prev_target'], dtype=np.float32)
                sample.gt_motion = torch.from_numpy(target[0] - prev[0])
        return dict(inputs=torch.from_numpy(inputs), data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(with_flow={self.with_flow})'
