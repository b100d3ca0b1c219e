"""Athlete crops: a square window around the tracked box, cut from every tracked frame and its previous frame.

For a tracked frame t with box ``[x, y, w, h]`` (``tracks/<video_id>.json``):

1. the box is united with the box of frame t - 1 when the track has one (smoothing, as in the reference);
2. the window is the square of side ``max(w, h) * (1 + 2 * pad)`` (``pad = 0.1``: 10% per side) centred on the
   (united) box, rounded to whole pixels: ``side = max(1, floor(S + 0.5))``, ``x0 = floor(cx - side / 2 + 0.5)``;
3. the window is cut from frame t with zero (black) fill outside the frame and resized to ``size x size``
   (area interpolation when shrinking, bilinear when enlarging);
4. the *previous crop* is frame t - 1 cut with the SAME window (frame 0: a copy of the current crop). The
   reference's crops made before its commit 7cde1ca used frame t - 2 here (its bug 5); we use t - 1.

Frames past the video's end and boxes that do not overlap the frame (or have zero size) are skipped, counted and
logged; a missing, unreadable or truncated video is a counted, logged error naming the file, and the other videos
go on. Output: :class:`~vpd_mm.corpus.crop_store.CropStore` (``crops/<video_id>/``), written atomically per
video; complete videos are skipped, so a killed run resumes.
"""
from __future__ import annotations

import logging
import math
import os
from functools import partial
from typing import Any, Sequence

import cv2
import numpy as np

from ..corpus import Corpus
from ..corpus.crop_store import CROP_SIZE, encode_crop_pairs
from .runner import VideoReadError, for_each_video

__all__ = ['crop_window', 'track_windows', 'cut_window', 'extract_crops',
           'extract_video_crops', 'VideoReadError']

logger = logging.getLogger(__name__)

DECODE_BATCH = 32


# ------------------------------------------------------------------------------------------------ window math
def crop_window(box: Sequence[float], prev_box: Sequence[float] | None = None, pad: float = 0.1) -> np.ndarray:
    """The square crop window of one frame.

    Args:
        box (Sequence[float]): ``[x, y, w, h]`` in pixels (top-left corner and size).
        prev_box (Sequence[float], optional): the previous frame's box; the window covers the union of both.
        pad (float): padding per side as a fraction of the square's side.

    Returns:
        np.ndarray: (4,) int64 ``[x0, y0, side, side]``: the top-left corner and the side in pixels.

    Example:
        >>> crop_window([10, 20, 30, 50]).tolist()   # side 50 -> 60; centre (25, 45)
        [-5, 15, 60, 60]
    """
    x1, y1, w, h = (float(v) for v in box)
    x2, y2 = x1 + w, y1 + h
    if prev_box is not None:
        px, py, pw, ph = (float(v) for v in prev_box)
        x1, y1, x2, y2 = min(x1, px), min(y1, py), max(x2, px + pw), max(y2, py + ph)
    side = max(1, math.floor(max(x2 - x1, y2 - y1) * (1 + 2 * pad) + 0.5))
    x0 = math.floor((x1 + x2) / 2 - side / 2 + 0.5)
    y0 = math.floor((y1 + y2) / 2 - side / 2 + 0.5)
    return np.array([x0, y0, side, side], dtype=np.int64)


def track_windows(frames: np.ndarray, boxes: np.ndarray, pad: float = 0.1) -> np.ndarray:
    """Crop windows of a whole track (each box united with the box of the previous frame when tracked).

    Args:
        frames (np.ndarray): (T,) strictly increasing frame numbers.
        boxes (np.ndarray): (T, 4) ``[x, y, w, h]`` boxes.
        pad (float): padding per side (fraction of the side).

    Returns:
        np.ndarray: (T, 4) int64 windows ``[x0, y0, side, side]``.
    """
    windows = np.zeros((len(frames), 4), dtype=np.int64)
    for i, (frame, box) in enumerate(zip(frames, boxes)):
        prev = boxes[i - 1] if i > 0 and frames[i - 1] == frame - 1 else None
        windows[i] = crop_window(box, prev, pad)
    return windows


def cut_window(image: np.ndarray, window: Sequence[int], size: int = CROP_SIZE) -> np.ndarray:
    """Cut a square window from an image, zero-filling outside it, and resize it.

    Args:
        image (np.ndarray): (H, W, C) uint8 frame.
        window (Sequence[int]): ``[x0, y0, side, side]`` (may extend past the image).
        size (int): output side.

    Returns:
        np.ndarray: (size, size, C) uint8.
    """
    x0, y0, side = int(window[0]), int(window[1]), int(window[2])
    height, width = image.shape[:2]
    ax, ay, bx, by = max(x0, 0), max(y0, 0), min(x0 + side, width), min(y0 + side, height)
    if ax == x0 and ay == y0 and bx == x0 + side and by == y0 + side:
        patch = image[ay:by, ax:bx]
    else:
        patch = np.zeros((side, side) + image.shape[2:], dtype=image.dtype)
        if ax < bx and ay < by:
            patch[ay - y0:by - y0, ax - x0:bx - x0] = image[ay:by, ax:bx]
    if side == size:
        return np.ascontiguousarray(patch)
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(patch, (size, size), interpolation=interpolation)


# ------------------------------------------------------------------------------------------------ extraction
def _open_video(path: str) -> Any:
    import decord  # noqa: PLC0415 (heavy import, only when extracting)
    try:
        return decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
    except Exception as error:  # decord raises DECORDError / RuntimeError for unreadable files
        raise VideoReadError(f'{path}: cannot open the video: corrupt, truncated or not a video '
                             f'({_short(error)})') from None


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


def extract_video_crops(corpus: Corpus, video_id: str, size: int = CROP_SIZE,
                        pad: float = 0.1) -> dict[str, int]:
    """Cut and write the crops of one video (``crops/<video_id>/``, atomic).

    Args:
        corpus (Corpus): the corpus (``videos/`` and ``tracks/``).
        video_id (str): the video.
        size (int): crop side in pixels.
        pad (float): padding per side (fraction of the side).

    Returns:
        dict[str, int]: ``frames`` written, ``beyond_end`` and ``outside`` frames skipped.

    Raises:
        CorpusFormatError: the track file is missing or malformed, or there is no video.
        VideoReadError: the video cannot be opened or a frame cannot be decoded (truncated/corrupt file).
    """
    track = corpus.read_track(video_id)
    path = corpus.video_path(video_id)
    reader = _open_video(path)
    num_frames = len(reader)
    try:
        height, width = reader[0].shape[:2] if num_frames else (0, 0)
    except Exception as error:  # a header without decodable frames
        raise VideoReadError(f'{path}: cannot decode frame 0 ({_short(error)})') from None

    windows = track_windows(track.frames, track.boxes, pad)
    keep, beyond, outside = [], 0, 0
    for i, (frame, (x1, y1, w, h)) in enumerate(zip(track.frames, track.boxes.astype(np.float64))):
        if frame >= num_frames:
            beyond += 1
        elif x1 + w <= 0 or y1 + h <= 0 or x1 >= width or y1 >= height or (w <= 0 and h <= 0):
            outside += 1
        else:
            keep.append(i)
    if beyond:
        logger.warning('%s: skipped %d tracked frames past the video end (%s has %d frames; truncated?)',
                       video_id, beyond, path, num_frames)
    if outside:
        logger.warning('%s: skipped %d frames whose box is empty or does not overlap the %dx%d frame', video_id,
                       outside, width, height)

    frames = track.frames[keep]
    wins = windows[keep]
    wanted = np.unique(np.concatenate([frames, np.maximum(frames - 1, 0)])) if len(frames) else np.zeros(0, int)
    slot = {int(f): i for i, f in enumerate(frames)}
    store = corpus.crops
    qualities: dict[int, int] = {}
    last: tuple[int, np.ndarray] | None = None
    with store.crop_writer(video_id) as writer:  # streamed: memory holds one decoded batch, not the video
        for start in range(0, len(wanted), DECODE_BATCH):
            chunk = wanted[start:start + DECODE_BATCH]
            try:
                batch = reader.get_batch([int(f) for f in chunk]).asnumpy()
            except Exception as error:  # truncated or corrupt stream
                raise VideoReadError(f'{path}: cannot decode frames {int(chunk[0])}..{int(chunk[-1])} of '
                                     f'{num_frames} ({_short(error)}); the file may be truncated or corrupt') \
                    from None
            if batch.shape[0] != len(chunk) or batch.shape[1:3] != (height, width):
                raise VideoReadError(f'{path}: decoded {batch.shape} for {len(chunk)} frames of '
                                     f'{width}x{height}; the file may be truncated or corrupt')
            decoded = {int(f): batch[j] for j, f in enumerate(chunk)}
            if last is not None:
                decoded.setdefault(last[0], last[1])
            done, crops, prevs = [], [], []
            for f in (int(f) for f in chunk):
                i = slot.get(f)
                if i is None:
                    continue
                crops.append(cut_window(decoded[f], wins[i], size))
                prevs.append(cut_window(decoded[f - 1], wins[i], size) if f > 0 else crops[-1])
                done.append(f)
            if done:
                pairs, quality = encode_crop_pairs(np.stack(crops), np.stack(prevs))
                qualities[quality] = qualities.get(quality, 0) + len(pairs)
                for f, pair in zip(done, pairs):
                    writer.add(f, pair)
            last = (int(chunk[-1]), batch[-1])
        writer.commit(store.crop_info(video_id, len(frames), qualities, size, pad=pad,
                                      video=os.path.relpath(path, corpus.root), video_frames=num_frames,
                                      width=width, height=height, skipped_beyond_end=beyond,
                                      skipped_outside=outside),
                      extra=dict(windows=wins.astype(np.int32).reshape(-1, 4)))
    return dict(frames=len(frames), beyond_end=beyond, outside=outside)


def extract_crops(corpus: Corpus, video_ids: Sequence[str] | None = None, size: int = CROP_SIZE,
                  pad: float = 0.1, progress: bool = True, overwrite: bool = False, workers: int = 1,
                  on_error: str = 'count') -> dict[str, Any]:
    """Extract the crops of many videos on the stage runner; resumable (videos with complete crops are skipped).

    Args:
        corpus (Corpus): the corpus.
        video_ids (Sequence[str], optional): videos to process (default: every video with a track).
        size (int): crop side in pixels (128).
        pad (float): padding per side (0.1).
        progress (bool): show a tqdm progress bar.
        overwrite (bool): recompute videos whose crops are complete.
        workers (int): processes.
        on_error (str): ``'count'`` or ``'raise'`` (see :func:`~vpd_mm.stages.runner.for_each_video`).

    Returns:
        dict: the runner's summary (``videos``, ``written``, ``skipped``, ``errors``, ``failed``, ``seconds``)
        and the counters ``frames``, ``beyond_end``, ``outside`` (frames written / skipped).
    """
    ids = list(video_ids) if video_ids is not None else corpus.video_ids()
    return for_each_video(ids, partial(extract_video_crops, corpus, size=size, pad=pad),
                          done=corpus.crops.has_crops, overwrite=overwrite, workers=workers, on_error=on_error,
                          desc='crops', progress=progress, counters=('frames', 'beyond_end', 'outside'),
                          outputs=[corpus.path('crops')])
