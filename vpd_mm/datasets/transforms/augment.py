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

import functools
import logging
import math
from typing import Any, Sequence

import cv2
import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log


__all__ = ['mirror_image', 'mirror_flow', 'mirror_crops_and_flow', 'shift_hue', 'adjust_brightness',
           'adjust_contrast', 'adjust_saturation', 'random_resized_crop_window', 'MirrorCropAndTarget',
           'CropColorJitter', 'BackgroundNoise', 'ResizedCropWithFlow']


def mirror_image(image: np.ndarray) -> np.ndarray:
    """Left-right mirror of one (H, W) or (H, W, C) array, or of a batch (..., H, W, C), as a new contiguous array.

    One array is flipped by ``cv2.flip`` (one pass, about 15x faster than copying numpy's reversed view).
    """
    image = np.asarray(image)
    return cv2.flip(image, 1) if image.ndim <= 3 else np.ascontiguousarray(image[..., ::-1, :])


def mirror_flow(flow: np.ndarray) -> np.ndarray:
    """Left-right mirror of (..., H, W, 2) flow in pixels, ``[..., 0]`` = dx: the field mirrored, dx negated."""
    mirrored = mirror_image(flow)
    mirrored[..., 0] *= -1
    return mirrored


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
    return mirror_image(crop), mirror_image(prev), mirror_flow(flow)


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
        for key in ('img', 'prev_img', 'mask'):
            if key in results:
                results[key] = mirror_image(results[key])
        if 'flow' in results:
            results['flow'] = mirror_flow(np.asarray(results['flow'], dtype=np.float32))
        for key in ('target', 'prev_target'):
            if key in results:
                results[key] = np.ascontiguousarray(results[key][::-1])
        results['flip'] = not results.get('flip', False)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'


def shift_hue(img: np.ndarray, factor: float, order: str = 'bgr') -> np.ndarray:
    """Rotate the hue of a (H, W, 3) uint8 image by ``factor`` turns, ``factor`` in [-0.5, 0.5].

    ``order`` is the channel order of ``img`` (``'bgr'`` or ``'rgb'``); the result has the same order.
    ``mmcv.adjust_hue`` does the same but fails for negative factors under numpy 2 (``np.uint8(-7.6)``).
    """
    to_hsv, to_img = ((cv2.COLOR_BGR2HSV_FULL, cv2.COLOR_HSV2BGR_FULL) if order == 'bgr' else
                      (cv2.COLOR_RGB2HSV_FULL, cv2.COLOR_HSV2RGB_FULL))
    hsv = cv2.cvtColor(img, to_hsv)
    hsv[..., 0] += np.uint8(int(round(factor * 255)) % 256)  # uint8 arithmetic wraps around the hue circle
    return cv2.cvtColor(hsv, to_img)


_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # grey = 0.299 R + 0.587 G + 0.114 B


def adjust_brightness(rgb: np.ndarray, factor: float) -> np.ndarray:
    """torchvision's ``adjust_brightness`` (blend with black) of a (H, W, 3) uint8 image, rounded to uint8.

    ``factor`` >= 0: ``clip(round(factor * x), 0, 255)``.
    """
    return cv2.convertScaleAbs(rgb, alpha=float(factor))  # |.| is a no-op for factor >= 0


def adjust_contrast(rgb: np.ndarray, factor: float) -> np.ndarray:
    """torchvision's ``adjust_contrast`` (blend with the mean grey level) of a (H, W, 3) uint8 RGB image.

    ``clip(round(factor * x + (1 - factor) * m), 0, 255)`` with ``m`` the mean grey level, the luma-weighted mean
    of the channel means (grey is linear in R, G, B, so no grey image is formed).
    """
    grey_mean = float(np.dot(_LUMA, cv2.mean(rgb)[:3]))
    return cv2.addWeighted(rgb, float(factor), rgb, 0.0, (1.0 - float(factor)) * grey_mean)


def adjust_saturation(rgb: np.ndarray, factor: float) -> np.ndarray:
    """torchvision's ``adjust_saturation`` (blend with the pixel's own grey level) of a (H, W, 3) uint8 RGB image:
    ``clip(round(factor * x + (1 - factor) * grey(x)), 0, 255)``, one 3 x 3 colour matrix."""
    matrix = float(factor) * np.eye(3, dtype=np.float32) + (1.0 - float(factor)) * _LUMA[None, :]
    return cv2.transform(rgb, matrix)


@TRANSFORMS.register_module()
class CropColorJitter(BaseTransform):
    """Colour jitter of the RGB crop only (not the flow); reference values (0.2, 0.2, 0.05, 0.05).

    The semantics of torchvision's ``ColorJitter`` (factors uniform in ``[max(0, 1 - b), 1 + b]``, hue shift
    uniform in ``[-h, h]``, the four adjustments in random order, each rounded and clipped to uint8), computed on
    the uint8 crop with OpenCV's saturating arithmetic and colour conversions: about 0.13 ms per 128 x 128 crop,
    against 0.55 ms with mmcv's photometric ops and 3.8 ms with torchvision's tensor kernels, on one CPU thread
    (``benchmarks/distill_throughput.py`` prints the figure per transform).

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
        # (low, high) of each op's factor, None where the op is off: brightness, contrast, saturation, hue
        self._ranges = [(max(0, 1 - v), 1 + v) if v > 0 else None for v in (brightness, contrast, saturation)]
        self._ranges.append((-hue, hue) if hue > 0 else None)
        self._ops = (adjust_brightness, adjust_contrast, adjust_saturation, functools.partial(shift_hue, order='rgb'))

    def transform(self, results: dict[str, Any]) -> dict[str, Any]:
        rgb = results['img']
        if rgb.dtype != np.uint8:
            raise TypeError(f'CropColorJitter expects a uint8 RGB crop, got {rgb.dtype}; put it before '
                            'BackgroundNoise and ResizedCropWithFlow')
        order = [op for op in np.random.permutation(4) if self._ranges[op] is not None]
        # one draw for the factors, in the order of the ops: the same numbers as one np.random.uniform per op
        for op, u in zip(order, np.random.random_sample(len(order)).tolist()):
            low, high = self._ranges[op]
            rgb = self._ops[op](rgb, low + (high - low) * u)
        results['img'] = rgb
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


def random_resized_crop_window(height: int, width: int, scale: Sequence[float],
                               ratio: Sequence[float]) -> tuple[int, int, int, int]:
    """A random window ``(top, left, h, w)`` drawn like torchvision's ``RandomResizedCrop.get_params``: area
    fraction uniform in ``scale``, aspect ratio w / h log-uniform in ``ratio``, up to 10 tries, then the whole
    image clipped to ``ratio`` (centred). Drawn with numpy's global generator (seeded per worker by mmengine),
    4x faster than torchvision's, which draws torch tensors."""
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * np.random.uniform(scale[0], scale[1])
        aspect = math.exp(np.random.uniform(*log_ratio))
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return int(np.random.randint(0, height - h + 1)), int(np.random.randint(0, width - w + 1)), h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        h, w = height, int(round(height * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


@TRANSFORMS.register_module()
class ResizedCropWithFlow(BaseTransform):
    """Random resized crop applied jointly to the RGB channels and the flow channels (one window for all 5).

    The window is drawn as torchvision's ``RandomResizedCrop`` draws it (:func:`random_resized_crop_window`); RGB
    and flow are resized with OpenCV's bilinear ``cv2.resize`` (a uint8 crop stays uint8, rounded). Reference:
    output 128, scale (0.5, 1.0), aspect ratio (0.9, 1.1); flow values are not rescaled (``rescale_flow=False``,
    as in the reference). With ``rescale_flow=True`` the flow is multiplied by the zoom
    factor so that it stays in output pixels.

    Required keys: ``img`` (H, W, 3), optional ``flow`` (H, W, 2), ``mask``. Modified keys: ``img`` (same dtype),
    ``flow`` (float32), ``mask`` (nearest).

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
        top, left, height, width = random_resized_crop_window(img.shape[0], img.shape[1], self.scale, self.ratio)
        size = (self.size, self.size)
        # the window is at most the crop (scale <= 1), so this mostly enlarges: bilinear without antialiasing;
        # RGB and flow are resized apart so that a uint8 crop takes OpenCV's fixed-point path
        results['img'] = cv2.resize(img[top:top + height, left:left + width], size, interpolation=cv2.INTER_LINEAR)
        if 'flow' in results:
            flow = cv2.resize(np.asarray(results['flow'], dtype=np.float32)[top:top + height, left:left + width], size,
                              interpolation=cv2.INTER_LINEAR)
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
