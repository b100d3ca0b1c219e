"""Storage of the athlete crops and optical flow of a corpus: ``crops/<video_id>/`` and ``flow/<video_id>/``.

Layout (one folder per video; every array is a plain ``.npy`` file, read memory-mapped)::

    crops/<video_id>/frames.npy    (T,) int32      frames that have a crop, strictly increasing
    crops/<video_id>/windows.npy   (T, 4) int32    crop window [x0, y0, side, side] in video pixels
    crops/<video_id>/offsets.npy   (2T + 1,) int64 image k is data[offsets[k]:offsets[k + 1]];
                                                   k = 2i the crop of frames[i], k = 2i + 1 its previous crop
    crops/<video_id>/data.npy      (N,) uint8      the encoded images (JPEG), back to back
    crops/<video_id>/meta.json     codec, size, quality, counts
    flow/<video_id>/frames.npy     (T,) int32
    flow/<video_id>/offsets.npy    (T + 1,) int64
    flow/<video_id>/data.npy       (N,) uint8      per frame, the int8 codes of the dx plane then the dy plane
                                                   (2 x 128 x 128), zlib-compressed (lossless)
    flow/<video_id>/meta.json      method, clip, levels, codec

JPEG quality is 90 (80 or 70 for 32-frame chunks whose crops would exceed 18 KB per frame at 90). A video's folder is
written under a temporary name and renamed into place, so ``crops/<video_id>/`` exists only when it is complete.
The format (JPEG crops, zlib flow codes, packed into memory-mapped npy arrays) was chosen with
``benchmarks/prepare_throughput.py`` (random access >= 2,000 frames/s per core and <= 25 KB per frame for the
crop, the previous crop and the flow together; PNG crops are 6x larger and 5x slower to decode, WebP 2x slower,
PNG flow 2x slower than zlib).

Flow is stored in pixels, clipped to ``+-FLOW_CLIP`` and quantised symmetrically to int8 codes
``round(flow / FLOW_CLIP * FLOW_LEVELS)`` in ``[-FLOW_LEVELS, FLOW_LEVELS]``, so zero flow decodes to exactly 0.0
(the reference's encoding decodes zero flow to -0.0137 after normalisation; its bug 13).
"""
from __future__ import annotations

import json
import os
import os.path as osp
import shutil
import tempfile
import zlib
from typing import Any

import cv2
import deflate
import numpy as np
import simplejpeg

from .atomic import temp_prefix
from .errors import CorpusFormatError

__all__ = ['CROP_SIZE', 'FLOW_CLIP', 'FLOW_LEVELS', 'CROP_FORMAT', 'FLOW_FORMAT', 'CropStore', 'PackedWriter',
           'quantize_flow', 'dequantize_flow', 'encode_crop', 'decode_crop', 'encode_crop_pairs', 'encode_flow',
           'decode_flow']

CROP_SIZE = 128
FLOW_CLIP = 20.0
FLOW_LEVELS = 127
CROP_FORMAT = 'vpd_mm.crops/1'
FLOW_FORMAT = 'vpd_mm.flow/1'
JPEG_QUALITY = 90
JPEG_QUALITIES = (90, 80, 70)
CROP_BYTES_PER_FRAME = 18_000  # crop + previous crop; leaves about 7 KB of the 25 KB budget for the flow
ENCODE_CHUNK = 32  # frames whose JPEG quality is chosen together
FLOW_ZLIB_LEVEL = 6

_FILES = ('frames.npy', 'offsets.npy', 'data.npy', 'meta.json')


# ------------------------------------------------------------------------------------------------ codecs
def quantize_flow(flow: np.ndarray, clip: float = FLOW_CLIP, levels: int = FLOW_LEVELS) -> np.ndarray:
    """Clip flow to ``+-clip`` pixels and quantise it symmetrically.

    Args:
        flow (np.ndarray): (..., 2) float flow in pixels.
        clip (float): clip magnitude per component, pixels.
        levels (int): codes span ``[-levels, levels]``; the step is ``clip / levels`` pixels.

    Returns:
        np.ndarray: (..., 2) int8 codes; 0 means exactly zero flow (NaN is stored as 0, +-inf as +-clip).
    """
    finite = np.nan_to_num(np.asarray(flow, dtype=np.float32), nan=0.0, posinf=clip, neginf=-clip)
    scaled = np.clip(finite, -clip, clip) * (levels / clip)
    return np.rint(scaled).astype(np.int8)


def dequantize_flow(codes: np.ndarray, clip: float = FLOW_CLIP, levels: int = FLOW_LEVELS) -> np.ndarray:
    """Inverse of :func:`quantize_flow`: (..., 2) int8 codes -> (..., 2) float32 pixels (code 0 -> 0.0)."""
    return codes.astype(np.float32) * np.float32(clip / levels)


def encode_crop(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """(H, W, 3) uint8 RGB -> JPEG bytes."""
    ok, buf = cv2.imencode('.jpg', cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f'OpenCV could not encode a crop of shape {rgb.shape} as JPEG')
    return buf.tobytes()


def decode_crop(data: np.ndarray) -> np.ndarray:
    """JPEG bytes (a uint8 array) -> (H, W, 3) uint8 RGB.

    Decoded by libjpeg-turbo through simplejpeg (accurate integer IDCT, smooth upsampling: the same pixels as
    ``cv2.imdecode``, which takes 1.3-1.4x as long for a 128 x 128 crop: ``benchmarks/prepare_throughput.py``).
    """
    try:
        return simplejpeg.decode_jpeg(np.ascontiguousarray(data), colorspace='RGB')
    except ValueError as error:
        raise ValueError(f'not a decodable JPEG crop ({error})') from None


def encode_flow(flow: np.ndarray) -> bytes:
    """(H, W, 2) float pixels -> zlib-compressed planar int8 codes (see :func:`quantize_flow`): dx plane, dy plane."""
    codes = quantize_flow(flow)
    return zlib.compress(np.ascontiguousarray(np.moveaxis(codes, -1, 0)).tobytes(), FLOW_ZLIB_LEVEL)


def decode_flow(data: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Bytes of :func:`encode_flow` (a uint8 array) -> (size, size, 2) float32 pixels."""
    try:  # libdeflate: the zlib stream of encode_flow, decompressed ~3x faster than by zlib itself
        raw = deflate.zlib_decompress(np.ascontiguousarray(data), 2 * size * size)
    except deflate.DeflateError as error:  # also a stream that would exceed the expected size
        raise ValueError(f'not a decodable flow field ({error})') from None
    if len(raw) != 2 * size * size:
        raise ValueError(f'flow field holds {len(raw)} codes, expected 2 x {size} x {size}')
    planes = np.frombuffer(raw, dtype=np.int8).reshape(2, size, size)
    flow = cv2.merge((planes[0], planes[1])).astype(np.float32)  # interleave the planes, then scale in place
    flow *= np.float32(FLOW_CLIP / FLOW_LEVELS)
    return flow


# ------------------------------------------------------------------------------------------------ packed folders
def _fsync_write(path: str, write: Any) -> None:
    with open(path, 'wb') as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


class PackedWriter:
    """Streams one video's packed folder to disk, then renames it into place (atomic; bounded memory).

    Items are appended frame by frame to a temporary folder next to ``folder``; :meth:`commit` writes the index
    arrays and ``meta.json`` and renames the temporary folder to ``folder`` (replacing an old one). Used as a
    context manager, an exception discards the temporary folder and leaves any old output untouched.

    Args:
        folder (str): the final folder, e.g. ``<corpus>/crops/<video_id>``.
        items_per_frame (int): encoded items per frame (2 for crops, 1 for flow).
    """

    def __init__(self, folder: str, items_per_frame: int) -> None:
        self.folder = folder
        self.items = items_per_frame
        parent = osp.dirname(osp.abspath(folder))
        os.makedirs(parent, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix=temp_prefix(folder), dir=parent)
        os.chmod(self.tmp, 0o755)
        self._raw = open(osp.join(self.tmp, 'data.raw'), 'wb')
        self._frames: list[int] = []
        self._sizes: list[int] = []

    def __enter__(self) -> PackedWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None or osp.isdir(self.tmp):
            self.abort()

    def add(self, frame: int, blobs: list[bytes]) -> None:
        """Append the encoded items of one frame (frames strictly increasing)."""
        if len(blobs) != self.items:
            raise ValueError(f'{self.folder}: {len(blobs)} items for frame {frame}, expected {self.items}')
        if self._frames and frame <= self._frames[-1]:
            raise ValueError(f'{self.folder}: frame {frame} after frame {self._frames[-1]}; frames must increase')
        self._frames.append(int(frame))
        for blob in blobs:
            self._raw.write(blob)
            self._sizes.append(len(blob))

    def commit(self, meta: dict[str, Any], extra: dict[str, np.ndarray] | None = None) -> None:
        """Write ``frames.npy``, ``offsets.npy``, ``data.npy``, the ``extra`` arrays and ``meta.json``; rename."""
        self._raw.close()
        offsets = np.zeros(len(self._sizes) + 1, dtype=np.int64)
        np.cumsum(np.asarray(self._sizes, dtype=np.int64), out=offsets[1:])
        raw_path = osp.join(self.tmp, 'data.raw')

        def write_data(f: Any) -> None:  # an npy header, then the raw bytes streamed from the temporary file
            np.lib.format.write_array_header_1_0(
                f, dict(descr='|u1', fortran_order=False, shape=(int(offsets[-1]),)))
            with open(raw_path, 'rb') as raw:
                shutil.copyfileobj(raw, f, 1 << 22)

        _fsync_write(osp.join(self.tmp, 'data.npy'), write_data)
        os.remove(raw_path)
        arrays = dict(frames=np.asarray(self._frames, dtype=np.int32), offsets=offsets, **(extra or {}))
        for name, array in arrays.items():
            _fsync_write(osp.join(self.tmp, name + '.npy'),
                         lambda f, a=array: np.save(f, np.ascontiguousarray(a), allow_pickle=False))
        text = json.dumps(meta, indent=1).encode()
        _fsync_write(osp.join(self.tmp, 'meta.json'), lambda f: f.write(text))
        if osp.isdir(self.folder):
            shutil.rmtree(self.folder)
        os.replace(self.tmp, self.folder)

    def abort(self) -> None:
        """Discard the temporary folder."""
        if not self._raw.closed:
            self._raw.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def num_frames(self) -> int:
        """Frames added so far."""
        return len(self._frames)


def encode_crop_pairs(crops: np.ndarray, prev: np.ndarray) -> tuple[list[list[bytes]], int]:
    """JPEG-encode (crop, previous crop) pairs at the first quality of ``JPEG_QUALITIES`` that keeps their mean
    size within ``CROP_BYTES_PER_FRAME``.

    Args:
        crops (np.ndarray): (N, S, S, 3) uint8 RGB.
        prev (np.ndarray): (N, S, S, 3) uint8 RGB.

    Returns:
        tuple[list[list[bytes]], int]: ``[[crop_jpeg, prev_jpeg], ...]`` and the quality used.
    """
    for quality in JPEG_QUALITIES:
        pairs = [[encode_crop(c, quality), encode_crop(p, quality)] for c, p in zip(crops, prev)]
        if sum(len(a) + len(b) for a, b in pairs) <= CROP_BYTES_PER_FRAME * max(1, len(pairs)):
            break
    return pairs, quality


class _Packed:
    """The memory-mapped arrays of one packed folder."""

    def __init__(self, folder: str, items_per_frame: int) -> None:
        self.folder = folder
        for name in _FILES:
            if not osp.isfile(osp.join(folder, name)):
                raise CorpusFormatError(osp.join(folder, name), 'file', 'does not exist')
        try:
            self.frames = np.load(osp.join(folder, 'frames.npy'), allow_pickle=False)
            self.offsets = np.load(osp.join(folder, 'offsets.npy'), allow_pickle=False)
            # a plain ndarray view of the memory map: slicing it is cheaper than slicing np.memmap
            self.data = np.load(osp.join(folder, 'data.npy'), mmap_mode='r', allow_pickle=False).view(np.ndarray)
            with open(osp.join(folder, 'meta.json')) as f:
                self.meta = json.load(f)
        except (OSError, ValueError) as error:
            raise CorpusFormatError(folder, 'file', f'not a readable packed folder ({error})') from None
        if self.frames.ndim != 1 or len(self.offsets) != items_per_frame * len(self.frames) + 1:
            raise CorpusFormatError(osp.join(folder, 'offsets.npy'), 'offsets',
                                    f'expected {items_per_frame} x {len(self.frames)} + 1 offsets, '
                                    f'got {len(self.offsets)}')
        if int(self.offsets[-1]) != len(self.data):
            raise CorpusFormatError(osp.join(folder, 'data.npy'), 'data',
                                    f'holds {len(self.data)} bytes, offsets end at {int(self.offsets[-1])}')
        self.items = items_per_frame
        self.inode = -1
        self.size = int(self.meta.get('size', CROP_SIZE))
        self._index = {int(f): i for i, f in enumerate(self.frames)}

    def item(self, frame: int, k: int = 0) -> np.ndarray:
        index = self._index.get(int(frame))
        if index is None:
            raise KeyError(f'{self.folder}: no frame {frame}')
        j = index * self.items + k
        return self.data[self.offsets[j]:self.offsets[j + 1]]


# ------------------------------------------------------------------------------------------------ the store
class CropStore:
    """Reads/writes ``crops/<video_id>/`` and ``flow/<video_id>/`` of a corpus (layout: module docstring).

    Opened videos are cached (memory maps are cheap and fork-safe, so one store can be shared by dataloader
    workers); a video whose folder was rewritten since is reopened.

    Args:
        corpus_root (str): the corpus folder.

    Example:
        >>> store = CropStore('data/fsjump6')
        >>> crop, prev = store.read_crops('some_video', 120)   # (128, 128, 3) uint8 RGB each
        >>> crop = store.read_crop('some_video', 120)          # the current crop only (one JPEG decode)
        >>> flow = store.read_flow('some_video', 120)          # (128, 128, 2) float32 pixels, prev -> current
    """

    def __init__(self, corpus_root: str) -> None:
        self.root = corpus_root
        self._crops: dict[str, _Packed] = {}
        self._flow: dict[str, _Packed] = {}

    # paths -------------------------------------------------------------------------------------------------
    def crop_dir(self, video_id: str) -> str:
        """``<corpus>/crops/<video_id>``."""
        return osp.join(self.root, 'crops', video_id)

    def flow_dir(self, video_id: str) -> str:
        """``<corpus>/flow/<video_id>``."""
        return osp.join(self.root, 'flow', video_id)

    def has_crops(self, video_id: str) -> bool:
        """Whether the complete crops of ``video_id`` exist."""
        return osp.isfile(osp.join(self.crop_dir(video_id), 'meta.json'))

    def has_flow(self, video_id: str) -> bool:
        """Whether the complete flow of ``video_id`` exists."""
        return osp.isfile(osp.join(self.flow_dir(video_id), 'meta.json'))

    def crop_ids(self) -> list[str]:
        """Videos with complete crops."""
        return self._ids('crops', self.has_crops)

    def flow_ids(self) -> list[str]:
        """Videos with complete flow."""
        return self._ids('flow', self.has_flow)

    def _ids(self, folder: str, check: Any) -> list[str]:
        path = osp.join(self.root, folder)
        if not osp.isdir(path):
            return []
        return sorted(name for name in os.listdir(path) if not name.startswith('.') and check(name))

    # reading -----------------------------------------------------------------------------------------------
    @staticmethod
    def _open(cache: dict[str, _Packed], folder: str, video_id: str, items: int) -> _Packed:
        """The cached packed folder, reopened when the folder was replaced (a new inode) since it was opened."""
        packed = cache.get(video_id)
        try:
            inode = os.stat(folder).st_ino
        except FileNotFoundError:
            cache.pop(video_id, None)
            raise CorpusFormatError(folder, 'folder', 'does not exist') from None
        if packed is None or packed.inode != inode:
            packed = cache[video_id] = _Packed(folder, items)
            packed.inode = inode
        return packed

    def _open_crops(self, video_id: str) -> _Packed:
        return self._open(self._crops, self.crop_dir(video_id), video_id, 2)

    def _open_flow(self, video_id: str) -> _Packed:
        return self._open(self._flow, self.flow_dir(video_id), video_id, 1)

    def crop_frames(self, video_id: str) -> np.ndarray:
        """(T,) int32 frames of ``video_id`` that have a crop."""
        return np.asarray(self._open_crops(video_id).frames, dtype=np.int32)

    def flow_frames(self, video_id: str) -> np.ndarray:
        """(T,) int32 frames of ``video_id`` that have a flow field."""
        return np.asarray(self._open_flow(video_id).frames, dtype=np.int32)

    def crop_windows(self, video_id: str) -> np.ndarray:
        """(T, 4) int32 crop windows ``[x0, y0, side, side]`` in video pixels, aligned with :meth:`crop_frames`."""
        path = osp.join(self.crop_dir(video_id), 'windows.npy')
        if not osp.isfile(path):
            raise CorpusFormatError(path, 'file', 'does not exist')
        return np.load(path, allow_pickle=False)

    @staticmethod
    def _decode_crop(packed: _Packed, frame: int, k: int) -> np.ndarray:
        """Decode image ``k`` (0: the crop, 1: the previous crop) of ``frame``; a corrupt JPEG is a
        :class:`CorpusFormatError`, a missing frame a ``KeyError``."""
        try:
            return decode_crop(packed.item(frame, k))
        except ValueError as error:
            raise CorpusFormatError(packed.folder, f'frame {frame}', str(error)) from None

    def read_crop(self, video_id: str, frame: int) -> np.ndarray:
        """The crop of ``frame`` alone, without decoding the previous frame's crop stored next to it.

        Use it when the previous crop is not needed (the student sees only the current crop): it decodes one
        JPEG instead of two. It returns exactly ``read_crops(video_id, frame)[0]``.

        Args:
            video_id (str): the video.
            frame (int): a frame of :meth:`crop_frames`.

        Returns:
            np.ndarray: (128, 128, 3) uint8 RGB.

        Raises:
            KeyError: the video has no crop for ``frame``.
            CorpusFormatError: the video's crops are missing or the stored image is corrupt.
        """
        return self._decode_crop(self._open_crops(video_id), frame, 0)

    def read_crops(self, video_id: str, frame: int) -> tuple[np.ndarray, np.ndarray]:
        """The crop of ``frame`` and the previous frame cut with the same window (:meth:`read_crop` decodes only
        the first).

        Returns:
            tuple[np.ndarray, np.ndarray]: (current, previous), each (128, 128, 3) uint8 RGB. For the first frame
            of a video the previous crop is a copy of the current one.
        """
        packed = self._open_crops(video_id)
        return self._decode_crop(packed, frame, 0), self._decode_crop(packed, frame, 1)

    def read_flow(self, video_id: str, frame: int) -> np.ndarray:
        """(128, 128, 2) float32 flow in pixels from the previous crop to the current one (``[..., 0]`` = dx)."""
        packed = self._open_flow(video_id)
        try:
            return decode_flow(packed.item(frame), packed.size)
        except ValueError as error:
            raise CorpusFormatError(packed.folder, f'frame {frame}', str(error)) from None

    def crop_meta(self, video_id: str) -> dict[str, Any]:
        """``crops/<video_id>/meta.json``."""
        return dict(self._open_crops(video_id).meta)

    def flow_meta(self, video_id: str) -> dict[str, Any]:
        """``flow/<video_id>/meta.json``."""
        return dict(self._open_flow(video_id).meta)

    # writing -----------------------------------------------------------------------------------------------
    def crop_writer(self, video_id: str) -> PackedWriter:
        """A :class:`PackedWriter` for ``crops/<video_id>`` (items: crop JPEG, previous crop JPEG)."""
        self._crops.pop(video_id, None)
        return PackedWriter(self.crop_dir(video_id), 2)

    def flow_writer(self, video_id: str) -> PackedWriter:
        """A :class:`PackedWriter` for ``flow/<video_id>`` (item: :func:`encode_flow` bytes)."""
        self._flow.pop(video_id, None)
        return PackedWriter(self.flow_dir(video_id), 1)

    @staticmethod
    def crop_info(video_id: str, num_frames: int, qualities: dict[int, int], size: int = CROP_SIZE,
                  **extra: Any) -> dict[str, Any]:
        """``meta.json`` of a crops folder; ``qualities`` maps JPEG quality -> frames encoded with it."""
        return dict(format=CROP_FORMAT, video_id=video_id, codec='jpeg', size=int(size), num_frames=int(num_frames),
                    quality=min(qualities) if qualities else JPEG_QUALITIES[0],
                    quality_frames={str(q): n for q, n in sorted(qualities.items(), reverse=True)}, **extra)

    @staticmethod
    def flow_info(video_id: str, num_frames: int, method: str, size: int = CROP_SIZE,
                  **extra: Any) -> dict[str, Any]:
        """``meta.json`` of a flow folder."""
        return dict(format=FLOW_FORMAT, video_id=video_id, codec='zlib-int8-planar', clip=FLOW_CLIP,
                    levels=FLOW_LEVELS, size=int(size), num_frames=int(num_frames), method=method, **extra)

    def write_crops(self, video_id: str, frames: np.ndarray, crops: np.ndarray, prev: np.ndarray,
                    windows: np.ndarray, meta: dict[str, Any] | None = None) -> None:
        """Write the crops of one video held in memory, atomically (long videos: use :meth:`crop_writer`).

        Args:
            video_id (str): the video.
            frames (np.ndarray): (T,) strictly increasing frame numbers.
            crops (np.ndarray): (T, S, S, 3) uint8 RGB crops.
            prev (np.ndarray): (T, S, S, 3) uint8 RGB previous-frame crops (same windows).
            windows (np.ndarray): (T, 4) int windows ``[x0, y0, side, side]``.
            meta (dict, optional): extra fields for ``meta.json``.

        The JPEG quality is 90, or 80 / 70 for a chunk of frames whose crops would take more than
        ``CROP_BYTES_PER_FRAME`` bytes per frame on average at 90 (very detailed footage), so that crops + flow
        stay within about 25 KB per frame; ``meta.json`` records the qualities used.
        """
        qualities: dict[int, int] = {}
        with self.crop_writer(video_id) as writer:
            for start in range(0, len(frames), ENCODE_CHUNK):
                part = slice(start, start + ENCODE_CHUNK)
                pairs, quality = encode_crop_pairs(crops[part], prev[part])
                qualities[quality] = qualities.get(quality, 0) + len(pairs)
                for frame, pair in zip(frames[part], pairs):
                    writer.add(int(frame), pair)
            size = int(crops.shape[1]) if len(crops) else CROP_SIZE
            writer.commit(self.crop_info(video_id, len(frames), qualities, size, **(meta or {})),
                          extra=dict(windows=np.asarray(windows, dtype=np.int32).reshape(-1, 4)))

    def write_flow(self, video_id: str, frames: np.ndarray, flows: np.ndarray, method: str = 'unknown',
                   meta: dict[str, Any] | None = None) -> None:
        """Write the flow of one video held in memory, atomically: (T,) frames, (T, S, S, 2) float pixels
        prev -> current (long videos: use :meth:`flow_writer`)."""
        with self.flow_writer(video_id) as writer:
            for frame, flow in zip(frames, flows):
                writer.add(int(frame), [encode_flow(flow)])
            size = int(flows.shape[1]) if len(flows) else CROP_SIZE
            writer.commit(self.flow_info(video_id, len(frames), method, size, **(meta or {})))
