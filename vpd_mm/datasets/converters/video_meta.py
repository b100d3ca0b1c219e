"""Source videos of a conversion: which exist, their frame rate, length and size, and links into ``videos/``.

Frame rates and sizes come from, in order of trust:

1. the user's videos (``--videos DIR``), read with decord (frame count, average fps, size of frame 0); results
   are cached in ``<corpus>/annotations/video_probe_cache.json`` (keyed by path, size and modification time,
   saved every 50 videos), so a killed run does not read them again;
2. the reference's metadata cache ``<sport>.video_meta.pkl`` (``data/sports.cache/`` of the reference code,
   a pickled ``dict name -> util.video.VideoMetadata(fps, num_frames, width, height)``) when it is in the labels
   folder. It is third-party input; it is read with an unpickler that only builds that record (anything else in
   the file is refused), never written.

The *video set* is known when either source is given: the names of the user's videos, else the keys of the
reference cache (the reference uses that cache as its video set when the videos are absent). With neither
(labels only) the set is unknown and no action is left out for a missing video.
"""
from __future__ import annotations

import json
import os
import os.path as osp
import pickle
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Iterable

from tqdm import tqdm

from ...corpus.atomic import temp_prefix
from ...corpus.corpus import VIDEO_EXTENSIONS, atomic_write_bytes
from .common import LabelFileError, SkipLog, logger

__all__ = ['VideoInfo', 'read_reference_video_meta', 'probe_video', 'list_videos', 'VideoCatalog', 'link_video',
           'VIDEO_META_CACHE_NAMES', 'dominant_size']

VIDEO_META_CACHE_NAMES = {'fsjump6': 'fs.video_meta.pkl', 'tennis7': 'tennis.video_meta.pkl',
                          'fx35': 'fx.video_meta.pkl', 'diving48': 'diving48.video_meta.pkl'}
"""Names of the reference's metadata caches (``data/sports.cache/``) per sport."""

_SAVE_EVERY = 50


@dataclass(frozen=True)
class VideoInfo:
    """Frame rate, number of frames and frame size of one video."""

    fps: float
    num_frames: int
    width: int
    height: int


class _ReferenceRecord(tuple):
    """Stand-in for the reference's ``util.video.VideoMetadata`` namedtuple while unpickling."""

    def __new__(cls, *args: Any) -> '_ReferenceRecord':
        return super().__new__(cls, args)


class _MetaUnpickler(pickle.Unpickler):
    """Builds only ``VideoMetadata`` records (plus the reconstructors pickle uses for tuples)."""

    def find_class(self, module: str, name: str) -> Any:
        if name == 'VideoMetadata':
            return _ReferenceRecord
        if (module, name) in (('copyreg', '_reconstructor'), ('builtins', 'tuple'), ('builtins', 'object')):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'refusing to load {module}.{name} (only VideoMetadata records are read)')


def read_reference_video_meta(path: str) -> dict[str, VideoInfo]:
    """Read the reference's ``<sport>.video_meta.pkl`` cache.

    Returns:
        dict[str, VideoInfo]: video name (file name without extension) -> metadata.

    Raises:
        LabelFileError: unreadable file, foreign objects in it, or records that are not
            ``(fps, num_frames, width, height)``.
    """
    try:
        with open(path, 'rb') as f:
            raw = _MetaUnpickler(f).load()
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError) as error:
        raise LabelFileError(path, None, f'not a readable video metadata cache ({error})') from None
    if not isinstance(raw, dict):
        raise LabelFileError(path, None, f'expected a dict name -> VideoMetadata, got {type(raw).__name__}')
    result = {}
    for name, record in raw.items():
        try:
            fps, num_frames, width, height = record
            result[str(name)] = VideoInfo(float(fps), int(num_frames), int(width), int(height))
        except (TypeError, ValueError):
            raise LabelFileError(path, f'entry {name!r}', 'expected (fps, num_frames, width, height)') from None
    return result


def probe_video(path: str) -> VideoInfo:
    """Frame rate, frame count and size of a video, read with decord.

    Raises:
        ValueError: the video cannot be opened or decoded (message names the file).
    """
    from decord import VideoReader, cpu
    try:
        reader = VideoReader(path, ctx=cpu(0))
        num_frames = len(reader)
        if num_frames <= 0:
            raise ValueError('no frames')
        height, width = reader[0].shape[:2]
        fps = float(reader.get_avg_fps())
    except Exception as error:  # decord raises its own DECORDError (a RuntimeError) and others
        raise ValueError(f'{path}: unreadable video ({str(error).splitlines()[0] if str(error) else error!r})') \
            from None
    return VideoInfo(fps, int(num_frames), int(width), int(height))


def list_videos(folder: str) -> dict[str, str]:
    """Video files directly inside ``folder`` (known extensions) as ``name -> path``.

    Raises:
        LabelFileError: the folder does not exist, or two files share a name with different extensions.
    """
    if not osp.isdir(folder):
        raise LabelFileError(folder, None, 'videos folder does not exist')
    videos: dict[str, str] = {}
    for entry in sorted(os.listdir(folder)):
        stem, ext = osp.splitext(entry)
        if ext.lower() not in VIDEO_EXTENSIONS or entry.startswith('.'):
            continue
        if stem in videos:
            raise LabelFileError(osp.join(folder, entry), None,
                                 f'two videos named {stem!r} ({osp.basename(videos[stem])} and {entry})')
        videos[stem] = osp.join(folder, entry)
    return videos


class VideoCatalog:
    """The source videos known to a conversion (see the module docstring).

    Args:
        videos_dir (str, optional): the user's videos.
        reference_meta (dict[str, VideoInfo], optional): the reference's metadata cache.
        probe_cache (str, optional): JSON file caching decord results between runs.
    """

    def __init__(self, videos_dir: str | None = None, reference_meta: dict[str, VideoInfo] | None = None,
                 probe_cache: str | None = None) -> None:
        self.paths: dict[str, str] = list_videos(videos_dir) if videos_dir else {}
        self.reference_meta = dict(reference_meta or {})
        self.has_videos = videos_dir is not None
        self.probe_cache = probe_cache
        self.unreadable = SkipLog('video')
        self._cache: dict[str, dict[str, Any]] = {}
        self._reported: set[str] = set()
        self._dirty = 0
        if probe_cache and osp.isfile(probe_cache):
            try:
                with open(probe_cache) as f:
                    self._cache = json.load(f)
            except (OSError, json.JSONDecodeError):
                logger.warning('ignoring unreadable probe cache %s', probe_cache)
                self._cache = {}

    @property
    def names(self) -> set[str] | None:
        """The video set: names of the user's videos, else the reference cache's keys, else None (unknown)."""
        if self.has_videos:
            return set(self.paths)
        if self.reference_meta:
            return set(self.reference_meta)
        return None

    def path(self, name: str) -> str | None:
        """Path of the user's video ``name`` (None when not given)."""
        return self.paths.get(name)

    def info(self, name: str) -> VideoInfo | None:
        """Metadata of ``name``: read from the user's video (cached), else from the reference cache, else None.

        An unreadable video is counted in :attr:`unreadable` and gives None.
        """
        path = self.paths.get(name)
        if path is None:
            return self.reference_meta.get(name)
        key = osp.abspath(path)
        stat = os.stat(path)
        cached = self._cache.get(key)
        if cached and cached.get('size') == stat.st_size and cached.get('mtime') == stat.st_mtime:
            if cached.get('error'):
                if name not in self._reported:
                    self._reported.add(name)
                    self.unreadable.skip(cached['error'], name)
                return None
            return VideoInfo(cached['fps'], cached['num_frames'], cached['width'], cached['height'])
        try:
            info = probe_video(path)
            self._cache[key] = dict(asdict(info), size=stat.st_size, mtime=stat.st_mtime)
        except ValueError as error:
            info = None
            self._cache[key] = dict(error=str(error), size=stat.st_size, mtime=stat.st_mtime)
            self._reported.add(name)
            self.unreadable.skip(str(error), name)
        self._dirty += 1
        if self._dirty >= _SAVE_EVERY:
            self.save()
        return info

    def probe_all(self, names: Iterable[str], desc: str = 'reading videos') -> dict[str, VideoInfo]:
        """:meth:`info` of every name that has metadata, with a progress bar."""
        result = {}
        for name in tqdm(sorted(set(names)), desc=desc, disable=None):
            info = self.info(name)
            if info is not None:
                result[name] = info
        self.save()
        return result

    def save(self) -> None:
        """Write the probe cache (atomic)."""
        if self.probe_cache and self._dirty:
            data = json.dumps(self._cache, indent=0).encode()
            atomic_write_bytes(self.probe_cache, lambda f: f.write(data))
        self._dirty = 0


def link_video(source: str, target_stem: str) -> str:
    """Make ``<target_stem><ext>`` a symbolic link to ``source`` (atomic; an existing correct link is kept, a
    link elsewhere replaced, a regular file left alone).

    Returns:
        str: the link path.
    """
    target = target_stem + osp.splitext(source)[1].lower()
    source = osp.abspath(source)
    if osp.islink(target) and os.readlink(target) == source:
        return target
    if osp.exists(target) and not osp.islink(target):
        return target
    os.makedirs(osp.dirname(target), exist_ok=True)
    tmp = osp.join(osp.dirname(target), temp_prefix(target) + 'link')
    if osp.lexists(tmp):
        os.remove(tmp)
    os.symlink(source, tmp)
    os.replace(tmp, target)
    return target


def dominant_size(infos: Iterable[VideoInfo]) -> tuple[int, int] | None:
    """The most common ``(height, width)`` (None when there is no video)."""
    sizes = Counter((i.height, i.width) for i in infos)
    return sizes.most_common(1)[0][0] if sizes else None
