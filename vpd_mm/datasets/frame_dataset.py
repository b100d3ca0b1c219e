"""The distillation frame dataset: confident teacher frames of a corpus, with a seeded validation split.

Which frames reach the loss (paper section 3.3, spec sections 1.4 and 3.4). A frame t of video v is *eligible* iff

1. ``crops/<v>/`` has frame t (and, with flow, ``flow/<v>/`` has it too);
2. the teacher file ``teacher/<name>/<v>.npz`` has frame t with score ``>= min_score`` (0.5 by default, read
   from ``meta.json`` ``min_pose_score``; 0.7 for tennis) and a finite feature (original and mirrored rows);
3. with motion (the method, ``with_motion=True``): the teacher file also has frame t - 1 exactly, with a finite
   feature, so that ``delta p_t = p_t - p_{t-1}`` is defined (computed separately for the original and the
   mirrored rows). As in the reference, the score of frame t - 1 is not checked;
4. ``v`` is not a test video (a video with an action of split ``test`` in ``annotations/actions.json``) unless
   ``include_test=True`` ("distilled with the entire corpus", Table 2c). The reference includes test videos by
   default; we do not;
5. with ``frames='actions'`` (Table 2b, "distilled on action video only"): t lies inside an annotated action.

The eligible frames are split 80/20 into train/val with a fixed seed (``seed=0``; the reference splits without a
seed, its bug 12). ``split_by='frame'`` (default) draws frames uniformly at random, as in the paper; neighbouring
frames are near-duplicates, so this validation loss measures fit more than generalisation to new videos.
``split_by='video'`` holds out 20% of the videos instead (no near-duplicates across the split; use it when the
corpus has many videos and an honest estimate matters).

Memory. The index lives in numpy arrays, never in per-frame Python objects: per eligible frame one int32/int64
row number (``rows``); per stored teacher row its frame number (int32); per video one offset. The targets are one
float32 table ``(M, 2, d)`` holding only the teacher rows that are needed (eligible frames and their previous
frames). :attr:`VPDFrameDataset.index_nbytes` and :attr:`VPDFrameDataset.target_nbytes` give the figures;
``benchmarks/distill_throughput.py`` prints them per frame. Arrays are shared copy-on-write by forked dataloader
workers (no reference counts are touched per frame).

Where the targets live (``targets``). ``'memory'`` (default): the index is built from the teacher files on every
construction and the target table is held in RAM (5 M frames: 1 GB at d = 26, 5.1 GB at d = 128). ``'mmap'``: the
index and the targets are built once into a cache of ``.npy`` files (:mod:`.frame_index_cache`; by default under
``<corpus>/cache/frame_index/``), validated against the sizes and modification times of the teacher, crop and flow
files and rebuilt when stale; later constructions open it in about a second, the index memory-mapped and each
sample's targets read with one ``pread``, so a process holds none of the table (``benchmarks/distill_memory.py``).
Both give exactly the same samples. The default stays ``'memory'`` so that existing configs and read-only corpora
behave as before and nothing is written into a corpus unasked; large corpora should set ``targets='mmap'``.

Bad input: a video without a teacher file, without crops or (with flow) without flow, or whose teacher file lacks
frames that have crops (a stale or truncated teacher file) is skipped and counted, with one warning per video
naming the file (``strict=True`` raises instead); a corpus where no frame is eligible raises
:class:`~vpd_mm.corpus.corpus.CorpusFormatError` with the counts. An epoch of ``N`` frames drawn with
replacement is :class:`ReplacementSampler`.
"""
from __future__ import annotations

import logging
import math
import os.path as osp
from collections import Counter
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from mmaction.registry import DATA_SAMPLERS, DATASETS
from mmengine.dataset import Compose
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.logging import print_log
from torch.utils.data import Dataset, Sampler

from ..corpus.corpus import Corpus, CorpusFormatError
from ..corpus.crop_store import CropStore
from .frame_index_cache import FrameIndex, FrameIndexCache, IndexTables, TargetReader

__all__ = ['VPDFrameDataset', 'ReplacementSampler', 'videos_with_test_actions']

SPLITS = ('train', 'val', 'all')
TARGET_STORAGE = ('memory', 'mmap')


def videos_with_test_actions(corpus: Corpus) -> set[str]:
    """Videos holding an action of split ``test`` (empty when the corpus has no ``annotations/actions.json``)."""
    if not osp.isfile(corpus.path('annotations', 'actions.json')):
        return set()
    return {a.video_id for a in corpus.read_actions('test')}


def _action_mask(frames: np.ndarray, intervals: Sequence[tuple[int, int]]) -> np.ndarray:
    mask = np.zeros(len(frames), dtype=bool)
    for start, end in intervals:
        mask |= (frames >= start) & (frames < end)
    return mask


@DATASETS.register_module()
class VPDFrameDataset(Dataset):
    """Eligible teacher frames of a corpus (module docstring), one sample per frame.

    A sample, before the pipeline, is a dict with ``corpus_root``, ``video_id``, ``frame``, ``with_flow``,
    ``target`` (2, d)
    float32 ``[original, mirrored]`` teacher feature of frame t and, with motion, ``prev_target`` (2, d) of frame
    t - 1; the transforms in :mod:`vpd_mm.datasets.transforms` load the crop and flow and pack the targets.

    Args:
        data_root (str): the corpus folder.
        teacher (str): teacher name, ``teacher/<teacher>/`` (``pose2d``, ``vipe``, ``vipe_inv``).
        pipeline (Sequence[dict]): transforms.
        split (str): ``'train'``, ``'val'`` or ``'all'`` (every eligible frame).
        min_score (float, optional): teacher score threshold; None reads ``meta.json`` ``min_pose_score``.
        with_motion (bool): require frame t - 1 and provide ``prev_target`` (False for the w/o-motion ablation).
        with_flow (bool): require flow for every frame (False for the RGB-only ablation).
        include_test (bool): also distil on test videos (Table 2c). Default False.
        frames (str): ``'all'`` (uncut video, default) or ``'actions'`` (only annotated action frames, Table 2b).
        val_fraction (float): fraction held out for validation. Default 0.2.
        split_by (str): ``'frame'`` (default, as the paper) or ``'video'``.
        seed (int): seed of the split (and of the ``max_frames`` subset). Default 0.
        max_frames (int, optional): keep a fixed, seeded subset of this many frames of the split (e.g. 4,000
            validation frames, evaluated every epoch).
        strict (bool): raise on the first bad video instead of skipping it.
        test_mode (bool): accepted for mmengine compatibility; augmentations are chosen by the pipeline.
        targets (str): ``'memory'`` (default: index and targets built in RAM) or ``'mmap'`` (built once into an
            on-disk cache, then memory-mapped / read per sample; same samples; module docstring).
        cache_dir (str, optional): folder of the ``'mmap'`` cache; default ``<data_root>/cache/frame_index``
            (give one for a read-only corpus).
    """

    def __init__(self, data_root: str, teacher: str, pipeline: Sequence[dict] = (), split: str = 'train',
                 min_score: float | None = None, with_motion: bool = True, with_flow: bool = True,
                 include_test: bool = False, frames: str = 'all', val_fraction: float = 0.2,
                 split_by: str = 'frame', seed: int = 0, max_frames: int | None = None, strict: bool = False,
                 test_mode: bool = False, targets: str = 'memory', cache_dir: str | None = None) -> None:
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        if frames not in ('all', 'actions'):
            raise ValueError(f"frames must be 'all' or 'actions', got {frames!r}")
        if split_by not in ('frame', 'video'):
            raise ValueError(f"split_by must be 'frame' or 'video', got {split_by!r}")
        if not 0 < val_fraction < 1:
            raise ValueError(f'val_fraction must be in (0, 1), got {val_fraction}')
        if targets not in TARGET_STORAGE:
            raise ValueError(f'targets must be one of {TARGET_STORAGE}, got {targets!r}')
        self.data_root, self.teacher, self.split = data_root, teacher, split
        self.with_motion, self.with_flow, self.include_test = with_motion, with_flow, include_test
        self.frames_mode, self.val_fraction, self.split_by, self.seed = frames, val_fraction, split_by, seed
        self.max_frames, self.strict, self.test_mode = max_frames, strict, test_mode
        self.targets, self.cache_dir = targets, cache_dir
        self.target_cache: FrameIndexCache | None = None
        self._targets: TargetReader | None = None
        self._first_skip: tuple[str, str, str] | None = None
        self.corpus = Corpus(data_root)
        for stage in (f'teacher/{teacher}', 'crops', *(('flow',) if with_flow else ())):
            self.corpus.require(stage)  # a missing stage names the tool that makes it
        if min_score is None:
            min_score = self.corpus.read_meta().min_pose_score
        self.min_score = float(min_score)
        self.skipped: Counter[str] = Counter()
        self._build_index()
        self.pipeline = Compose(list(pipeline))

    # ------------------------------------------------------------------------------------------- the index
    def _skip(self, reason: str, path: str, field_name: str, problem: str) -> None:
        if self.strict:
            raise CorpusFormatError(path, field_name, problem)
        self.skipped[reason] += 1
        if self._first_skip is None:
            self._first_skip = (path, field_name, problem)
        print_log(f'VPDFrameDataset: {path}: {field_name}: {problem}; video skipped', logger='current',
                  level=logging.WARNING)

    def _video_list(self) -> list[str]:
        ids = sorted(set(self.corpus.video_ids()) | set(self.corpus.feature_ids('teacher', self.teacher)))
        if self.include_test:
            return ids
        test = videos_with_test_actions(self.corpus)
        self.skipped['test_video'] += sum(1 for v in ids if v in test)
        return [v for v in ids if v not in test]

    def _action_intervals(self) -> dict[str, list[tuple[int, int]]]:
        path = self.corpus.path('annotations', 'actions.json')
        if not osp.isfile(path):
            raise CorpusFormatError(path, 'file', "does not exist; frames='actions' needs the annotated actions")
        intervals: dict[str, list[tuple[int, int]]] = {}
        for action in self.corpus.read_actions():
            intervals.setdefault(action.video_id, []).append((action.start, action.end))
        return intervals

    def _build_index(self) -> None:
        videos = self._video_list()
        if self.targets == 'memory':
            tables = IndexTables()
            index = tables.index(*self._scan(videos, tables))
        else:
            self.target_cache = FrameIndexCache(self.corpus, self._cache_params(), self.cache_dir)
            index = self.target_cache.load_or_build(videos, lambda tables: self._scan(videos, tables, progress=True))
            if self.target_cache.status == 'reused':
                self._report_cached_skips(index)
            self._targets = index.reader
        self._use_index(index)

    def _cache_params(self) -> dict[str, Any]:
        """What decides eligibility: names the cache entry (the split is drawn after loading)."""
        return dict(teacher=self.teacher, min_score=self.min_score, with_motion=self.with_motion,
                    with_flow=self.with_flow, include_test=self.include_test, frames=self.frames_mode,
                    corpus=osp.realpath(self.data_root) if self.cache_dir else None)

    def _report_cached_skips(self, index: FrameIndex) -> None:
        """The videos skipped when the reused cache entry was built: raised with ``strict``, else one warning."""
        if index.first_skip is None:
            return
        if self.strict:
            raise CorpusFormatError(*index.first_skip)
        bad = {k: v for k, v in index.skipped.items() if k != 'test_video'}
        print_log(f'VPDFrameDataset: {sum(bad.values())} videos were skipped when the frame index cache '
                  f'{self.target_cache.entry} was built ({bad}); first: {": ".join(index.first_skip)}',
                  logger='current', level=logging.WARNING)

    def _scan(self, video_list: Sequence[str], tables: IndexTables,
              progress: bool = False) -> tuple[Counter, Counter, tuple[str, str, str] | None]:
        """Add every video's eligible frames to ``tables`` (module docstring); returns the frame counts, the
        skipped videos and the first skip. Raises when no frame is eligible."""
        intervals = self._action_intervals() if self.frames_mode == 'actions' else None
        teacher_dir = self.corpus.path('teacher', self.teacher)
        frame_counts: Counter[str] = Counter()
        if progress:
            from tqdm import tqdm
            video_list = tqdm(video_list, desc='VPDFrameDataset index', unit='video', mininterval=2.0, disable=None)
        for video_id in video_list:
            store = CropStore(self.data_root)  # one per video: a shared store would keep every video's index
            teacher_path = self.corpus.feature_path('teacher', self.teacher, video_id)
            if not osp.isfile(teacher_path):
                self._skip('no_teacher', teacher_path, 'file', 'does not exist')
                continue
            if not store.has_crops(video_id):
                self._skip('no_crops', store.crop_dir(video_id), 'folder', 'no complete crops')
                continue
            if self.with_flow and not store.has_flow(video_id):
                self._skip('no_flow', store.flow_dir(video_id), 'folder', 'no complete flow')
                continue
            track = self.corpus.read_features('teacher', self.teacher, video_id)
            if tables.dim is not None and track.dim != tables.dim:
                raise CorpusFormatError(teacher_path, 'feats',
                                        f'dimension {track.dim}, other videos have {tables.dim}')
            have = store.crop_frames(video_id)
            if self.with_flow:
                flow_frames = store.flow_frames(video_id)
                frame_counts['no_flow'] += int((~np.isin(have, flow_frames)).sum())
                have = have[np.isin(have, flow_frames)]
            missing = int((~np.isin(have, track.frames)).sum())
            if missing:
                self._skip('teacher_short', teacher_path, 'frames',
                           f'{len(track.frames)} teacher frames lack {missing} of the {len(have)} frames that have '
                           'crops (stale or truncated teacher file; re-run tools/extract_teacher.py)')
                continue
            finite = np.isfinite(track.feats).all(axis=(1, 2))
            with np.errstate(invalid='ignore'):
                confident = track.scores >= self.min_score
            eligible = np.isin(track.frames, have) & confident & finite
            frame_counts['tracked'] += len(have)
            frame_counts['below_threshold'] += int((np.isin(track.frames, have) & ~confident).sum())
            frame_counts['non_finite'] += int((np.isin(track.frames, have) & confident & ~finite).sum())
            if self.with_motion:
                has_prev = np.zeros(len(track.frames), dtype=bool)
                has_prev[1:] = (np.diff(track.frames) == 1) & finite[:-1]
                frame_counts['no_previous'] += int((eligible & ~has_prev).sum())
                eligible &= has_prev
            if intervals is not None:
                in_action = _action_mask(track.frames, intervals.get(video_id, []))
                frame_counts['outside_actions'] += int((eligible & ~in_action).sum())
                eligible &= in_action
            picked = np.flatnonzero(eligible)
            if not len(picked):
                frame_counts['videos_without_eligible_frames'] += 1
                continue
            needed = np.union1d(picked, picked - 1) if self.with_motion else picked
            tables.add(video_id, track.frames[needed], track.feats[needed], np.searchsorted(needed, picked))
        if not tables.video_ids:
            raise CorpusFormatError(
                teacher_dir, 'scores',
                f'no frame is eligible for distillation: {frame_counts["tracked"]} frames with crops'
                f'{" and flow" if self.with_flow else ""}, {frame_counts["below_threshold"]} below the threshold '
                f'{self.min_score}, {frame_counts["non_finite"]} with non-finite features, '
                f'{frame_counts["no_previous"]} without a previous frame; skipped videos: {dict(self.skipped)}')
        return frame_counts, Counter(self.skipped), self._first_skip

    def _use_index(self, index: FrameIndex) -> None:
        self.frame_counts, self.skipped = index.frame_counts, index.skipped
        self.dim = index.dim
        self.video_ids: list[str] = index.video_ids
        self.video_offsets = index.video_offsets
        self.table_frames = index.table_frames
        self.table_feats = index.table_feats
        self.num_eligible = len(index.rows)
        self.rows = self._select(index.rows)
        where = ('targets in memory' if self.target_cache is None else
                 f'targets {self.target_cache.status} from {self.target_cache.entry}')
        print_log(f'VPDFrameDataset({self.split}): {len(self.rows)} frames of {self.num_eligible} eligible in '
                  f'{len(self.video_ids)} videos (teacher {self.teacher}, d={self.dim}, threshold {self.min_score}, '
                  f'{where}); frames: {dict(self.frame_counts)}; skipped videos: {dict(self.skipped)}',
                  logger='current')

    def _select(self, all_rows: np.ndarray) -> np.ndarray:
        if self.split == 'all':
            chosen = all_rows
        else:
            rng = np.random.default_rng(self.seed)
            if self.split_by == 'frame':
                n_val = int(round(self.val_fraction * len(all_rows)))
                if n_val == 0 or n_val == len(all_rows):
                    raise ValueError(f'{self.data_root}: {len(all_rows)} eligible frames cannot be split '
                                     f'{1 - self.val_fraction:.0%}/{self.val_fraction:.0%} into train and val')
                is_val = np.zeros(len(all_rows), dtype=bool)
                is_val[rng.permutation(len(all_rows))[:n_val]] = True
            else:
                num_videos = len(self.video_ids)
                if num_videos < 2:
                    raise ValueError(f"{self.data_root}: split_by='video' needs at least 2 videos with eligible "
                                     f'frames, found {num_videos}')
                n_val = min(max(1, int(round(self.val_fraction * num_videos))), num_videos - 1)
                val_videos = np.zeros(num_videos, dtype=bool)
                val_videos[rng.permutation(num_videos)[:n_val]] = True
                video_of_row = np.searchsorted(self.video_offsets, all_rows, side='right') - 1
                is_val = val_videos[video_of_row]
            chosen = all_rows[is_val] if self.split == 'val' else all_rows[~is_val]
        if self.max_frames is not None and len(chosen) > self.max_frames:
            keep = np.random.default_rng(self.seed + 1).choice(len(chosen), self.max_frames, replace=False)
            chosen = chosen[np.sort(keep)]
        return np.array(chosen)  # a copy in RAM, also when ``all_rows`` is memory-mapped

    # ------------------------------------------------------------------------------------------- access
    @property
    def index_nbytes(self) -> int:
        """Bytes of the frame index: sample rows, stored frame numbers and video offsets."""
        return int(self.rows.nbytes + self.table_frames.nbytes + self.video_offsets.nbytes)

    @property
    def target_nbytes(self) -> int:
        """Bytes of the target table (M, 2, d) float32."""
        return int(self.table_feats.nbytes)

    @property
    def metainfo(self) -> dict[str, Any]:
        """What the dataset holds (mmengine passes it to the evaluator and visualizer)."""
        return dict(teacher=self.teacher, dim=self.dim, split=self.split, num_frames=len(self.rows),
                    min_score=self.min_score, with_motion=self.with_motion, with_flow=self.with_flow)

    def full_init(self) -> None:
        """The index is built in ``__init__``; kept for mmengine's dataset protocol."""

    def __len__(self) -> int:
        return len(self.rows)

    def frame_keys(self) -> list[tuple[str, int]]:
        """``(video_id, frame)`` of every sample, in order (for inspection and tests)."""
        video_of_row = np.searchsorted(self.video_offsets, self.rows, side='right') - 1
        return [(self.video_ids[v], int(f)) for v, f in zip(video_of_row, self.table_frames[self.rows])]

    def get_data_info(self, index: int) -> dict[str, Any]:
        """The sample before the pipeline (see the class docstring)."""
        row = int(self.rows[index])
        video = int(np.searchsorted(self.video_offsets, row, side='right') - 1)
        if self._targets is None:
            target = self.table_feats[row].copy()
            prev = self.table_feats[row - 1].copy() if self.with_motion else None
        else:  # rows t - 1 and t are adjacent in the table: one read
            block = self._targets.read(row - 1 if self.with_motion else row, row + 1)
            target, prev = block[-1], block[0]
        info = dict(corpus_root=self.data_root, video_id=self.video_ids[video], frame=int(self.table_frames[row]),
                    target=target, sample_idx=index, with_flow=self.with_flow)
        if self.with_motion:
            info['prev_target'] = prev
        return info

    def __getitem__(self, index: int) -> Any:
        return self.pipeline(self.get_data_info(index))

    def __getstate__(self) -> dict[str, Any]:
        """With ``targets='mmap'`` the mapped arrays are not pickled (a spawned worker reopens the cache entry)."""
        state = self.__dict__.copy()
        if self.target_cache is not None:
            state.update(table_frames=None, table_feats=None, _targets=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.target_cache is not None:
            self.table_frames, self.table_feats, self._targets = self.target_cache.open_arrays()


@DATA_SAMPLERS.register_module()
class ReplacementSampler(Sampler):
    """An epoch of ``num_samples`` indices drawn uniformly with replacement (the reference's 20,000 per epoch).

    The draw of epoch e uses the generator seeded with ``seed + e`` (``set_epoch`` is called by mmengine's
    ``DistSamplerSeedHook``), so a resumed run draws what an uninterrupted one would. With several processes every
    rank draws the same ``ceil(num_samples / world) * world`` indices and keeps every world-th one.

    Args:
        dataset (Dataset): the dataset (its length is the population).
        num_samples (int): samples per epoch over all ranks. Default 20,000.
        seed (int, optional): base seed; None syncs a random one across ranks.
    """

    def __init__(self, dataset: Dataset, num_samples: int = 20000, seed: int | None = None) -> None:
        if num_samples < 1:
            raise ValueError(f'num_samples must be positive, got {num_samples}')
        if len(dataset) == 0:
            raise ValueError('ReplacementSampler needs a non-empty dataset')
        self.dataset = dataset
        self.rank, self.world_size = get_dist_info()
        self.seed = sync_random_seed() if seed is None else seed
        self.num_samples = num_samples
        self.total = math.ceil(num_samples / self.world_size) * self.world_size
        self.epoch = 0

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        indices = torch.randint(len(self.dataset), (self.total,), generator=generator)
        return iter(indices[self.rank::self.world_size].tolist())

    def __len__(self) -> int:
        return self.total // self.world_size

    def set_epoch(self, epoch: int) -> None:
        """Select the draw of ``epoch``."""
        self.epoch = epoch
