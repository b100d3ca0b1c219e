"""The frame index and teacher targets of :class:`~vpd_mm.datasets.VPDFrameDataset` on disk (``targets='mmap'``).

Why. Held in RAM, the target table of 5 M frames is 1 GB (d = 26) to 5.1 GB (d = 128) in the main process before
any dataloader worker, and building the index reads every teacher file of the corpus. Here the index is built once
by the same scan as the in-RAM one, written as plain ``.npy`` files (``np.save``, no pickle), and later opened in
about a second: the index arrays with ``np.load(mmap_mode='r')``, and the two target rows of a sample (frame t and
t - 1 are adjacent rows) read from ``feats.npy`` with one ``pread`` (:class:`TargetReader`). A process therefore
holds none of the target table and at most the pages of the index it touches (4 bytes per frame of ``frames.npy``).
Reading the targets through the memory map would be as fast, but every page fault maps up to 64 KB of the page cache
into the process (the kernel's fault-around, which ``MADV_RANDOM`` does not turn off), so each worker's resident size
would grow towards the whole table within a few epochs; ``pread`` copies 2 x 2 x d x 4 bytes and maps nothing.

Layout of one entry ``<cache_root>/<teacher>-<key>/`` (``key``: a hash of the parameters that decide eligibility)::

    manifest.json       format, parameters, shapes, the scan's counts and the stats of meta.json and
                        annotations/actions.json; written last
    sources.npy         (V,) str            the candidate videos, in scan order
    source_stats.npy    (V, 5, 2) int64     [size, mtime_ns] of each video's teacher file, crops/meta.json,
                                            crops/frames.npy, flow/meta.json, flow/frames.npy ((-1, -1): missing)
    videos.npy          (U,) str            videos with eligible frames
    offsets.npy         (U + 1,) int64      video u owns table rows offsets[u]:offsets[u + 1]
    frames.npy          (M,) int32          frame number of each table row
    rows.npy            (N,) int32 | int64  table row of each eligible frame (before the train/val split)
    feats.npy           (M, 2, d) float32   teacher feature [original, mirrored] of each table row

Validity. An entry is used when its manifest has this format and the same parameters, the candidate videos are the
same and every source file still has its recorded size and modification time; otherwise it is rebuilt. A build
holds an exclusive lock (``.<entry>.lock``, ``fcntl.flock``, released by the kernel when a process dies), writes
into ``.<entry>.partial/``, flushes every file to disk and only then renames the folder into place, so a killed
build leaves no entry (or the previous, stale one) and the next build starts over.
"""
from __future__ import annotations

import fcntl
import hashlib
import io
import json
import logging
import os
import os.path as osp
import shutil
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np
from mmengine.logging import print_log

from ..corpus.corpus import Corpus
from ..corpus.errors import CorpusFormatError

__all__ = ['CACHE_FORMAT', 'FrameIndex', 'IndexTables', 'CacheWriter', 'TargetReader', 'FrameIndexCache',
           'source_stats']

CACHE_FORMAT = 'vpd_mm.frame_index/1'
SOURCE_FILES = ('teacher', 'crops/meta.json', 'crops/frames.npy', 'flow/meta.json', 'flow/frames.npy')
"""The files of a video whose size and mtime an entry records (the teacher file and the crop/flow frame lists)."""
GLOBAL_SOURCES = ('meta.json', 'annotations/actions.json')
FEATS_HEADER_BYTES = 128
"""Bytes reserved for the npy header of ``feats.npy`` (written last, once the number of rows is known)."""
ARRAY_FILES = ('sources.npy', 'source_stats.npy', 'videos.npy', 'offsets.npy', 'frames.npy', 'rows.npy',
               'feats.npy')


@dataclass
class FrameIndex:
    """The frame index of a corpus: which teacher rows are stored and which of them are eligible samples.

    Args:
        video_ids (list[str]): the U videos with eligible frames.
        video_offsets (np.ndarray): (U + 1,) int64; video u owns table rows ``offsets[u]:offsets[u + 1]``.
        table_frames (np.ndarray): (M,) int32 frame number of each stored teacher row.
        table_feats (np.ndarray): (M, 2, d) float32 ``[original, mirrored]`` teacher features (memory-mapped when
            read from a cache entry).
        rows (np.ndarray): (N,) int32/int64 table row of each eligible frame, in scan order.
        frame_counts (Counter): frames not eligible, by reason, and tracked frames (``'tracked'``).
        skipped (Counter): videos skipped, by reason.
        first_skip (tuple, optional): ``(path, field, problem)`` of the first skipped video (for ``strict``).
        reader (TargetReader, optional): reads the targets of a cache entry (None: in memory).
    """

    video_ids: list[str]
    video_offsets: np.ndarray
    table_frames: np.ndarray
    table_feats: np.ndarray
    rows: np.ndarray
    frame_counts: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    first_skip: tuple[str, str, str] | None = None
    reader: TargetReader | None = None

    @property
    def dim(self) -> int:
        """Feature dimension d."""
        return int(self.table_feats.shape[-1])


# ------------------------------------------------------------------------------------------------ building
class IndexTables:
    """The index of the scanned videos, appended video by video; the targets are kept in memory.

    :class:`CacheWriter` streams the targets to disk instead, so that a build holds one video's features at a time.
    """

    def __init__(self) -> None:
        self.video_ids: list[str] = []
        self.dim: int | None = None
        self._offsets = [0]
        self._frames: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []
        self._feats: list[np.ndarray] = []

    @property
    def num_rows(self) -> int:
        """Teacher rows stored so far (M)."""
        return self._offsets[-1]

    def add(self, video_id: str, frames: np.ndarray, feats: np.ndarray, picked: np.ndarray) -> None:
        """Append one video.

        Args:
            video_id (str): the video.
            frames (np.ndarray): (K,) frame numbers of the stored rows (increasing).
            feats (np.ndarray): (K, 2, d) teacher features of the stored rows.
            picked (np.ndarray): (n,) positions in ``frames`` of the eligible frames.
        """
        dim = int(feats.shape[-1])
        if self.dim is None:
            self.dim = dim
        elif dim != self.dim:
            raise ValueError(f'{video_id}: feature dimension {dim}, other videos have {self.dim}')
        base = self._offsets[-1]
        self.video_ids.append(video_id)
        self._frames.append(np.asarray(frames, dtype=np.int32))
        self._rows.append(base + np.asarray(picked, dtype=np.int64))
        self._offsets.append(base + len(frames))
        self._add_feats(np.ascontiguousarray(feats, dtype=np.float32))

    def _add_feats(self, feats: np.ndarray) -> None:
        self._feats.append(feats)

    def arrays(self) -> dict[str, np.ndarray]:
        """``offsets`` (U + 1,) int64, ``frames`` (M,) int32 and ``rows`` (N,) int32 (int64 from 2^31 rows)."""
        index_dtype = np.int32 if self.num_rows < 2 ** 31 else np.int64
        return dict(offsets=np.asarray(self._offsets, dtype=np.int64),
                    frames=np.concatenate(self._frames).astype(np.int32, copy=False),
                    rows=np.concatenate(self._rows).astype(index_dtype))

    def index(self, frame_counts: Counter, skipped: Counter,
              first_skip: tuple[str, str, str] | None = None) -> FrameIndex:
        """The in-memory :class:`FrameIndex` of what was added."""
        arrays = self.arrays()
        return FrameIndex(list(self.video_ids), arrays['offsets'], arrays['frames'],
                          np.ascontiguousarray(np.concatenate(self._feats), dtype=np.float32), arrays['rows'],
                          Counter(frame_counts), Counter(skipped), first_skip)


def _fsync_save(path: str, array: np.ndarray) -> None:
    with open(path, 'wb') as f:
        np.save(f, np.ascontiguousarray(array), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def _feats_header(rows: int, dim: int) -> bytes:
    """The npy header of a (rows, 2, dim) float32 array, exactly ``FEATS_HEADER_BYTES`` long."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, dict(descr=np.lib.format.dtype_to_descr(np.dtype('<f4')), fortran_order=False,
                     shape=(int(rows), 2, int(dim))))
    header = buffer.getvalue()
    if len(header) != FEATS_HEADER_BYTES:  # numpy pads headers to 64 bytes; any realistic shape gives 128
        raise RuntimeError(f'npy header of shape ({rows}, 2, {dim}) is {len(header)} bytes, '
                           f'expected {FEATS_HEADER_BYTES}')
    return header


class CacheWriter(IndexTables):
    """Builds one cache entry in a temporary folder; the targets are streamed to ``feats.npy`` video by video.

    Args:
        folder (str): the temporary folder (created; must not exist).
    """

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder
        os.makedirs(folder)
        self._feats_file = open(osp.join(folder, 'feats.npy'), 'wb')
        self._feats_file.write(b'\0' * FEATS_HEADER_BYTES)  # the header is written once the shape is known

    def _add_feats(self, feats: np.ndarray) -> None:
        self._feats_file.write(memoryview(feats).cast('B'))

    def commit(self, videos: Sequence[str], stats: np.ndarray, manifest: dict[str, Any]) -> None:
        """Write the header of ``feats.npy``, the index arrays, the sources and, last, ``manifest.json``; fsync all.

        Args:
            videos (Sequence[str]): (V,) the candidate videos.
            stats (np.ndarray): (V, 5, 2) their :func:`source_stats`.
            manifest (dict): the manifest (shapes are added here).
        """
        self._feats_file.seek(0)
        self._feats_file.write(_feats_header(self.num_rows, self.dim or 0))
        self._feats_file.flush()
        os.fsync(self._feats_file.fileno())
        self._feats_file.close()
        arrays = self.arrays()
        _fsync_save(osp.join(self.folder, 'sources.npy'), np.asarray(list(videos), dtype=str).reshape(-1))
        _fsync_save(osp.join(self.folder, 'source_stats.npy'), stats)
        _fsync_save(osp.join(self.folder, 'videos.npy'), np.asarray(self.video_ids, dtype=str))
        for name, array in arrays.items():
            _fsync_save(osp.join(self.folder, name + '.npy'), array)
        manifest = dict(manifest, dim=self.dim, num_videos=len(self.video_ids), num_rows=self.num_rows,
                        num_eligible=len(arrays['rows']), rows_dtype=str(arrays['rows'].dtype))
        with open(osp.join(self.folder, 'manifest.json'), 'w') as f:
            json.dump(manifest, f, indent=1)
            f.flush()
            os.fsync(f.fileno())

    def abort(self) -> None:
        """Discard the temporary folder."""
        if not self._feats_file.closed:
            self._feats_file.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ reading
class TargetReader:
    """Reads rows of a ``(M, 2, d)`` float32 ``feats.npy`` with ``preadv`` into fresh arrays (nothing is mapped).

    The file is opened at once, so a reader keeps reading the file it was validated with even when the cache entry
    is rebuilt later; forked dataloader workers share the descriptor (``pread`` has no file position to share). An
    unpickled reader (a spawned worker) opens the path again.

    Args:
        path (str): the npy file.
        offset (int): bytes of its header.
        shape (tuple[int, int, int]): (M, 2, d).
    """

    def __init__(self, path: str, offset: int, shape: tuple[int, ...]) -> None:
        self.path, self.offset, self.shape = path, int(offset), tuple(int(s) for s in shape)
        self.row_bytes = 4 * self.shape[1] * self.shape[2]
        self._fd: int | None = os.open(path, os.O_RDONLY)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a new writable (stop - start, 2, d) float32 array."""
        if not 0 <= start <= stop <= self.shape[0]:
            raise IndexError(f'{self.path}: rows {start}:{stop} outside 0:{self.shape[0]}')
        out = np.empty((stop - start,) + self.shape[1:], dtype=np.float32)
        got = os.preadv(self._fd, [memoryview(out).cast('B')], self.offset + start * self.row_bytes)
        if got != out.nbytes:
            raise CorpusFormatError(self.path, 'feats', f'read {got} of {out.nbytes} bytes at rows {start}:{stop}; '
                                    'the file was truncated while in use')
        return out

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__, _fd=None)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._fd = os.open(self.path, os.O_RDONLY)

    def __del__(self) -> None:
        if getattr(self, '_fd', None) is not None:
            os.close(self._fd)
            self._fd = None


def _open_npy(path: str, shape: tuple[int, ...], dtype: np.dtype, mmap: bool,
              header: int | None = None) -> np.ndarray:
    """A cache array, checked against the shape and dtype the manifest promises (``ValueError`` otherwise).

    With ``mmap`` the array is memory-mapped and the file size must match exactly; ``header`` also checks the
    bytes of the npy header.
    """
    array = np.load(path, mmap_mode='r' if mmap else None, allow_pickle=False)
    if array.shape != tuple(shape) or array.dtype != dtype:
        raise ValueError(f'{osp.basename(path)} holds {array.dtype}{array.shape}, expected {dtype}{tuple(shape)}')
    if not mmap:
        return array
    if header is not None and array.offset != header:
        raise ValueError(f'{osp.basename(path)} has a {array.offset}-byte header, expected {header}')
    size, expected = os.stat(path).st_size, array.offset + array.nbytes
    if size != expected:
        raise ValueError(f'{osp.basename(path)} is {size} bytes, expected {expected}')
    return array.view(np.ndarray)  # plain ndarray view of the map: cheaper to index than np.memmap


def _file_stat(path: str) -> tuple[int, int]:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return -1, -1
    return int(stat.st_size), int(stat.st_mtime_ns)


def source_stats(corpus: Corpus, teacher: str, videos: Sequence[str]) -> np.ndarray:
    """(V, 5, 2) int64 ``[size, mtime_ns]`` of the :data:`SOURCE_FILES` of each video ((-1, -1): missing)."""
    stats = np.empty((len(videos), len(SOURCE_FILES), 2), dtype=np.int64)
    for i, video_id in enumerate(videos):
        stats[i, 0] = _file_stat(corpus.feature_path('teacher', teacher, video_id))
        for j, name in enumerate(SOURCE_FILES[1:], start=1):
            folder, file = name.split('/')
            stats[i, j] = _file_stat(corpus.path(folder, video_id, file))
    return stats


class _Writable:
    """Whether the cache folder could be locked for writing (false with ``error`` set when not)."""

    def __init__(self, error: str | None = None) -> None:
        self.error = error

    def __bool__(self) -> bool:
        return self.error is None


class FrameIndexCache:
    """One cache entry of the frame index of a corpus: opened when valid, (re)built otherwise (module docstring).

    Args:
        corpus (Corpus): the corpus.
        params (dict): the parameters that decide eligibility (JSON-serialisable; ``teacher`` among them); they
            name the entry and are checked on opening.
        cache_root (str, optional): folder of the entries; default ``<corpus>/cache/frame_index``.

    Attributes:
        entry (str): the entry's folder.
        status (str): ``'reused'`` or ``'built'`` after :meth:`load_or_build`.
    """

    def __init__(self, corpus: Corpus, params: dict[str, Any], cache_root: str | None = None) -> None:
        self.corpus = corpus
        self.params = dict(params)
        self.cache_root = cache_root or corpus.path('cache', 'frame_index')
        key = hashlib.sha1(json.dumps(self.params, sort_keys=True).encode()).hexdigest()[:12]
        name = f"{self.params['teacher']}-{key}"
        self.entry = osp.join(self.cache_root, name)
        self._partial = osp.join(self.cache_root, f'.{name}.partial')
        self._lock_path = osp.join(self.cache_root, f'.{name}.lock')
        self.status: str | None = None

    # -------------------------------------------------------------------------------------------- public
    def load_or_build(self, videos: Sequence[str],
                      scan: Callable[[IndexTables], tuple[Counter, Counter, tuple | None]]) -> FrameIndex:
        """The index of the entry, rebuilt first when it is missing, stale or unreadable.

        Args:
            videos (Sequence[str]): the candidate videos, in scan order.
            scan (callable): ``scan(tables)`` adds every eligible video to ``tables`` (an :class:`IndexTables`)
                and returns ``(frame_counts, skipped, first_skip)``; it raises when nothing is eligible.

        Returns:
            FrameIndex: with the arrays memory-mapped from the entry.
        """
        videos = list(videos)
        with self._locked() as writable:
            stats = source_stats(self.corpus, self.params['teacher'], videos)
            index, reason = self._open(videos, stats)
            if index is not None:
                self.status = 'reused'
                return index
            if not writable:
                raise CorpusFormatError(self.cache_root, 'folder', f'cannot write the frame index cache ({reason}; '
                                        f"{writable.error}); set cache_dir to a writable folder or use "
                                        "targets='memory'")
            print_log(f'VPDFrameDataset: building the frame index cache {self.entry} ({reason})',
                      logger='current', level=logging.INFO)
            self._build(videos, stats, scan)
            index, reason = self._open(videos, stats)
            if index is None:
                raise CorpusFormatError(self.entry, 'file', f'unreadable right after it was built ({reason})')
            self.status = 'built'
            return index

    def open_arrays(self) -> tuple[np.ndarray, np.ndarray, TargetReader]:
        """``table_frames`` (M,) and ``table_feats`` (M, 2, d) memory-mapped, and a :class:`TargetReader` of the
        targets, from the entry as it is (no validation of the sources: for a dataset unpickled in a worker)."""
        manifest = self._manifest()
        rows, dim = manifest['num_rows'], manifest['dim']
        frames = _open_npy(osp.join(self.entry, 'frames.npy'), (rows,), np.dtype(np.int32), mmap=True)
        feats = _open_npy(osp.join(self.entry, 'feats.npy'), (rows, 2, dim), np.dtype(np.float32), mmap=True,
                          header=FEATS_HEADER_BYTES)
        return frames, feats, self.target_reader(feats.shape)

    def target_reader(self, shape: tuple[int, ...]) -> TargetReader:
        """A :class:`TargetReader` of the entry's ``feats.npy`` of shape (M, 2, d)."""
        return TargetReader(osp.join(self.entry, 'feats.npy'), FEATS_HEADER_BYTES, tuple(shape))

    # -------------------------------------------------------------------------------------------- opening
    def _manifest(self) -> dict[str, Any]:
        with open(osp.join(self.entry, 'manifest.json')) as f:
            return json.load(f)

    def _global_stats(self) -> dict[str, list[int]]:
        return {name: list(_file_stat(self.corpus.path(*name.split('/')))) for name in GLOBAL_SOURCES}

    def _open(self, videos: list[str], stats: np.ndarray) -> tuple[FrameIndex | None, str]:
        """The entry's index when it is valid for ``videos`` and ``stats``, else ``(None, why not)``."""
        if not osp.isfile(osp.join(self.entry, 'manifest.json')):
            return None, 'no cache yet'
        try:
            manifest = self._manifest()
            if manifest.get('format') != CACHE_FORMAT:
                return None, f"format {manifest.get('format')!r}, this version reads {CACHE_FORMAT!r}"
            if manifest.get('params') != self.params:
                return None, 'built with other parameters'
            if manifest.get('global_stats') != self._global_stats():
                return None, f'{" or ".join(GLOBAL_SOURCES)} changed'
            cached_videos = np.load(osp.join(self.entry, 'sources.npy'), allow_pickle=False).tolist()
            if cached_videos != videos:
                return None, f'the candidate videos changed ({len(cached_videos)} -> {len(videos)})'
            cached_stats = _open_npy(osp.join(self.entry, 'source_stats.npy'), stats.shape, stats.dtype, mmap=False)
            changed = np.flatnonzero((cached_stats != stats).any(axis=(1, 2)))
            if len(changed):
                return None, (f'the teacher, crop or flow files of {len(changed)} videos changed '
                              f'(first: {videos[changed[0]]})')
            return self._read_index(manifest), ''
        except (OSError, ValueError, KeyError, TypeError) as error:  # a damaged entry is rebuilt, not trusted
            return None, f'unreadable: {error}'

    def _read_index(self, manifest: dict[str, Any]) -> FrameIndex:
        num_videos, num_eligible = manifest['num_videos'], manifest['num_eligible']
        video_ids = np.load(osp.join(self.entry, 'videos.npy'), allow_pickle=False).tolist()
        if len(video_ids) != num_videos:
            raise ValueError(f'videos.npy holds {len(video_ids)} videos, expected {num_videos}')
        offsets = _open_npy(osp.join(self.entry, 'offsets.npy'), (num_videos + 1,), np.dtype(np.int64), mmap=False)
        rows = _open_npy(osp.join(self.entry, 'rows.npy'), (num_eligible,), np.dtype(manifest['rows_dtype']),
                         mmap=True)
        frames, feats, reader = self.open_arrays()  # under the lock: the files just validated
        first_skip = manifest.get('first_skip')
        return FrameIndex(video_ids, offsets, frames, feats, rows, Counter(manifest['frame_counts']),
                          Counter(manifest['skipped']), tuple(first_skip) if first_skip else None, reader)

    # -------------------------------------------------------------------------------------------- building
    def _build(self, videos: list[str], stats: np.ndarray,
               scan: Callable[[IndexTables], tuple[Counter, Counter, tuple | None]]) -> None:
        start = time.perf_counter()
        shutil.rmtree(self._partial, ignore_errors=True)  # left by a killed build (we hold the lock)
        writer = CacheWriter(self._partial)
        try:
            frame_counts, skipped, first_skip = scan(writer)
            writer.commit(videos, stats, dict(
                format=CACHE_FORMAT, params=self.params, global_stats=self._global_stats(),
                frame_counts=dict(frame_counts), skipped=dict(skipped),
                first_skip=list(first_skip) if first_skip else None, corpus=osp.abspath(self.corpus.root),
                built=time.strftime('%Y-%m-%d %H:%M:%S'), build_seconds=round(time.perf_counter() - start, 3)))
        except BaseException:
            writer.abort()
            raise
        self._replace_entry()

    def _replace_entry(self) -> None:
        """Rename the finished temporary folder to the entry (the old entry, if any, is moved aside first)."""
        old = None
        if osp.isdir(self.entry):
            old = f'{self._partial}.old'
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.entry, old)
        os.replace(self._partial, self.entry)
        fd = os.open(self.cache_root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    @contextmanager
    def _locked(self) -> Iterator[_Writable]:
        """Hold the entry's lock (one builder at a time; a waiting process then reuses the new entry).

        Yields a false :class:`_Writable` (no lock) when the cache folder cannot be written: a valid entry may
        still be read, e.g. in a read-only corpus.
        """
        try:
            os.makedirs(self.cache_root, exist_ok=True)
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            fd, problem = -1, str(error)
        if fd < 0:
            yield _Writable(problem)
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print_log(f'VPDFrameDataset: waiting for another process building {self.entry}', logger='current',
                          level=logging.INFO)
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield _Writable()
        finally:
            os.close(fd)  # closing the descriptor releases the lock
