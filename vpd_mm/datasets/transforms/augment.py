"""Training augmentations of the student (paper section 3.3, spec section 3.5), applied to crop, flow and target.

Reference order: flip coin -> colour jitter -> noise -> add flow -> mirror -> random resized crop. Mirroring
commutes with colour jitter and with i.i.d. pixel noise, so we mirror first (``MirrorCropAndTarget``), which
keeps the mirror of image, flow, mask and target in one place. Validation frames get none of these.

Fix of the reference's bug 1: the noise jitter is added to the BACKGROUND (where a person mask is zero); the
reference added it to the athlete (author FIXME). Our corpora have no person masks; without a mask the noise is
skipped by default (which is also what the reference does for frames without a mask file), or added to the whole
image with ``no_mask='whole'``.
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

import cv2
import mmcv
import numpy as np
import torch
import torchvision.transforms as T
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log


__all__ = ['mirror_crops_and_flow', 'shift_hue', 'MirrorCropAndTarget', 'CropColorJitter', 'BackgroundNoise', 'ResizedCropWithFlow']



def mirror_crops_and_flow(crop: np.ndarray, prev: np.ndarray,
                          flow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mirror a crop, its previous crop and their flow left-right (flow x negated). Mirroring twice is identity.

    Args:
        crop (np.ndarray): (..., H, W, 3) image(s).
        prev (np.ndarray): (..., H, W, 3) previous image(s).
        flow (np.ndarray): (..., H, W, 2) flow in pixels, ``[..., 0]`` = dx.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: mirrored (crop, prev, flow), new contiguous arrays.
    """
    crop_m = np.ascontiguousarray(crop[..., ::-1, :])
    prev_m = np.ascontiguousarray(prev[..., ::-1, :])
    flow_m = np.array(flow[..., ::-1, :], copy=True)
    flow_m[..., 0] = -flow_m[..., 0]
    return crop_m, prev_m, flow_m


@TRANSFORMS.register_module()
class MirrorCropAndTarget(BaseTransform):
    """Flip-aware horizontal flip: mirror image and flow (flow-x negated) and swap the teacher's rows.

    After the swap, row 0 of ``target``/``prev_target`` is the teacher's MIRRORED feature (for VIPE*, the
    embedding of the mirrored 2D pose, re-embedded by the teacher; for 2D joints, the mirrored normalised joints),
    which :class:`PackDistillInputs` uses as the target. Mirroring twice is the identity.

    Required keys: ``img``. Modified keys: ``img``, ``prev_img``, ``flow``, ``mask`` (when present), ``target``,
    ``prev_target`` (rows swapped). Added keys: ``flip`` (bool, toggled).

    Args:
        prob (float): probability of mirroring. Default 0.5 (1.0 mirrors always, e.g. for feature extraction).
    """

    def __init__(self, prob: float = 0.5) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: dict[str, Any]) -> dict[str, Any]:
        if self.prob < 1 and np.random.rand() >= self.prob:
            results.setdefault('flip', False)
            return results
        img = results['img']
        prev = results.get('prev_img', img)
        flow = results.get('flow', np.zeros(img.shape[:2] + (2,), np.float32))
        img_m, prev_m, flow_m = mirror_crops_and_flow(img, prev, flow)
        results['img'] = img_m
        if 'prev_img' in results:
            results['prev_img'] = prev_m
        if 'flow' in results:
            results['flow'] = flow_m
        if 'mask' in results:
            results['mask'] = np.ascontiguousarray(results['mask'][:, ::-1])
        for key in ('target', 'prev_target'):
            if key in results:
                results[key] = np.ascontiguousarray(results[key][::-1])
        results['flip'] = not results.get('flip', False)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'


def shift_hue(bgr: np.ndarray, factor: float) -> np.ndarray:
    """Rotate the hue of a (H, W, 3) uint8 BGR image by ``factor`` turns, ``factor`` in [-0.5, 0.5].

    ``mmcv.adjust_hue`` does the same but fails for negative factors under numpy 2 (``np.uint8(-7.6)``).
    """
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] += np.uint8(int(round(factor * 255)) % 256)  # uint8 arithmetic wraps around the hue circle
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL)


@TRANSFORMS.register_module()
class CropColorJitter(BaseTransform):
    """Colour jitter of the RGB crop only (not the flow); reference values (0.2, 0.2, 0.05, 0.05).

    The semantics of torchvision's ``ColorJitter`` (factors uniform in ``[max(0, 1 - b), 1 + b]``, hue shift
    uniform in ``[-h, h]``, the four adjustments in random order), computed with mmcv's OpenCV photometric ops:
    about 0.7 ms per 128 x 128 crop against 3.8 ms for torchvision's tensor kernels on one CPU thread.

    Required keys: ``img`` (H, W, 3) uint8 RGB. Modified keys: ``img`` (still uint8).

    Args:
        brightness (float): Default 0.2.
        contrast (float): Default 0.2.
        saturation (float): Default 0.05.
        hue (float): at most 0.5. Default 0.05.
    """

    def __init__(self, brightness: float = 0.2, contrast: float = 0.2, saturation: float = 0.05,
                 hue: float = 0.05) -> None:
        if not 0 <= hue <= 0.5:
            raise ValueError(f'hue must be in [0, 0.5], got {hue}')
        if min(brightness, contrast, saturation) < 0:
            raise ValueError('brightness, contrast and saturation must be non-negative')
        self.params = dict(brightness=brightness, contrast=contrast, saturation=saturation, hue=hue)

    def transform(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results['img']
        if img.dtype != np.uint8:
            raise TypeError(f'CropColorJitter expects a uint8 RGB crop, got {img.dtype}; put it before '
                            'BackgroundNoise and ResizedCropWithFlow')
        bgr = np.ascontiguousarray(img[..., ::-1])  # mmcv's grey conversions assume BGR
        for op in np.random.permutation(4):
            if op == 0 and self.params['brightness'] > 0:
                b = self.params['brightness']
                bgr = mmcv.adjust_brightness(bgr, np.random.uniform(max(0, 1 - b), 1 + b), backend='cv2')
            elif op == 1 and self.params['contrast'] > 0:
                c = self.params['contrast']
                bgr = mmcv.adjust_contrast(bgr, np.random.uniform(max(0, 1 - c), 1 + c), backend='cv2')
            elif op == 2 and self.params['saturation'] > 0:
                s = self.params['saturation']
                bgr = mmcv.adjust_color(bgr, np.random.uniform(max(0, 1 - s), 1 + s), backend='cv2')
            elif op == 3 and self.params['hue'] > 0:
                bgr = shift_hue(bgr, np.random.uniform(-self.params['hue'], self.params['hue']))
        results['img'] = np.ascontiguousarray(bgr[..., ::-1])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.params})'


@TRANSFORMS.register_module()
class BackgroundNoise(BaseTransform):
    """Gaussian pixel noise on the background (outside the person mask), with probability ``prob``.

    Reference: probability 0.5, standard deviation sqrt(0.05) ~ 0.224 in normalised units (after dividing by the
    per-dataset RGB std), i.e. ``std * rgb_std * 255`` per channel in pixel units. Bug 1 fixed: the reference
    added the noise on the person (mask != 0); we add it where the mask is 0.

    Required keys: ``img``; optional ``mask`` (H, W), nonzero on the person. Modified keys: ``img`` becomes
    float32 (noise is not clipped, as in the reference's normalised tensors).

    Args:
        std (float): noise standard deviation in normalised units. Default sqrt(0.05).
        rgb_std (Sequence[float]): the per-channel RGB std of the normalisation, 0-1 scale (the data
            preprocessor's std / 255). Default ImageNet's (0.229, 0.224, 0.225).
        prob (float): probability of adding noise. Default 0.5.
        no_mask (str): without a mask: ``'skip'`` (default; no noise, what the reference does for frames without
            a mask file) or ``'whole'`` (noise on every pixel).
    """

    def __init__(self, std: float = 0.05 ** 0.5, rgb_std: Sequence[float] = (0.229, 0.224, 0.225),
                 prob: float = 0.5, no_mask: str = 'skip') -> None:
        if no_mask not in ('skip', 'whole'):
            raise ValueError(f"no_mask must be 'skip' or 'whole', got {no_mask!r}")
        self.pixel_std = np.float32(std) * np.asarray(rgb_std, dtype=np.float32).reshape(3) * np.float32(255)
        self.std, self.rgb_std = float(std), tuple(float(v) for v in rgb_std)
        self.prob, self.no_mask = prob, no_mask
        self.skipped_without_mask = 0

    def transform(self, results: dict[str, Any]) -> dict[str, Any]:
        if np.random.rand() >= self.prob:
            return results
        mask = results.get('mask')
        if mask is None and self.no_mask == 'skip':
            self.skipped_without_mask += 1
            if self.skipped_without_mask == 1:
                print_log(f'BackgroundNoise: no person mask for {results.get("video_id")!r} frame '
                          f'{results.get("frame")}; noise jitter is skipped on maskless frames '
                          "(no_mask='skip'; this is logged once per process)", logger='current', level=logging.WARNING)
            return results
        img = results['img'].astype(np.float32)
        noise = np.random.standard_normal(img.shape).astype(np.float32) * self.pixel_std
        if mask is not None:
            noise *= (np.asarray(mask) == 0)[..., None]
        results['img'] = img + noise
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(std={self.std}, rgb_std={self.rgb_std}, prob={self.prob}, '
                f'no_mask={self.no_mask!r})')


@TRANSFORMS.register_module()
class ResizedCropWithFlow(BaseTransform):
    """Random resized crop applied jointly to the RGB channels and the flow channels (one window for all 5).

    The window is drawn by torchvision's ``RandomResizedCrop.get_params``; the 5-channel resize is one OpenCV
    bilinear ``cv2.resize``. Reference: output 128, scale (0.5, 1.0), aspect ratio (0.9, 1.1); flow values are
    not rescaled
    (``rescale_flow=False``, as in the reference). With ``rescale_flow=True`` the flow is multiplied by the zoom
    factor so that it stays in output pixels.

    Required keys: ``img`` (H, W, 3), optional ``flow`` (H, W, 2), ``mask``. Modified keys: ``img`` (float32),
    ``flow``, ``mask`` (nearest).

    Args:
        size (int): output side. Default 128.
        scale (Sequence[float]): area fraction range. Default (0.5, 1.0).
        ratio (Sequence[float]): aspect ratio range. Default (0.9, 1.1).
        rescale_flow (bool): scale flow with the zoom. Default False.
    """

    def __init__(self, size: int = 128, scale: Sequence[float] = (0.5, 1.0), ratio: Sequence[float] = (0.9, 1.1),
                 rescale_flow: bool = False) -> None:
        self.size, self.scale, self.ratio = int(size), tuple(scale), tuple(ratio)
        self.rescale_flow = rescale_flow

    def transform(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results['img']
        planes = [img.astype(np.float32)]
        if 'flow' in results:
            planes.append(results['flow'].astype(np.float32))
        stack = np.concatenate(planes, axis=2)
        shape_only = torch.empty((1,) + stack.shape[:2])
        top, left, height, width = T.RandomResizedCrop.get_params(shape_only, list(self.scale), list(self.ratio))
        size = (self.size, self.size)
        # the window is at most the crop (scale <= 1), so this mostly enlarges: bilinear without antialiasing
        out = cv2.resize(stack[top:top + height, left:left + width], size, interpolation=cv2.INTER_LINEAR)
        results['img'] = out[..., :3]
        if 'flow' in results:
            flow = np.ascontiguousarray(out[..., 3:5])
            if self.rescale_flow:
                flow[..., 0] *= self.size / width
                flow[..., 1] *= self.size / height
            results['flow'] = flow
        if 'mask' in results:
            mask = np.ascontiguousarray(results['mask'][top:top + height, left:left + width]).astype(np.uint8)
            results['mask'] = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
        results['crop_box'] = (left, top, width, height)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, scale={self.scale}, ratio={self.ratio}, '
                f'rescale_flow={self.rescale_flow})')
