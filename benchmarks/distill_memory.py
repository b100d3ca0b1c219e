"""Resident memory and start-up time of the distillation dataset over a large corpus (targets and index only).

Writes a synthetic corpus holding only what the frame index reads: one teacher file per video (T + 1 frames, all
confident, so T eligible frames each) and crop/flow folders that list their frames but hold no images. Then, each
in a fresh process (so that nothing is shared with this one):

  1. cold build   ``VPDFrameDataset(targets='mmap')`` building its cache from the teacher files
  2. start-up     the same construction again (cache reused), then the first batch of a DataLoader with W workers
  3. memory       VmRSS (and its anonymous and file-backed parts) of the main process before the dataset, after
                  its construction and after the epoch, and of each worker after reading its share of S random
                  samples (``get_data_info``: frame, targets, previous targets). "added": for the main process,
                  VmRSS minus its VmRSS before the dataset; for a worker, VmRSS minus that of a worker forked (same
                  DataLoader settings) before the dataset existed
  4. optional     the same with ``targets='memory'`` (``--compare-memory``; needs 2-3x the table in RAM)

Targets (issue 15): 5 M frames, any d <= 128: <= 300 MB added in the main process and in each worker, ready to train
(construction + first batch) in <= 30 s.

Example (this 2-core machine; about 2 x 5 M x 8d bytes of temporary files, deleted at the end):
    python benchmarks/distill_memory.py --dim 128
    python benchmarks/distill_memory.py --frames 1000000 --dim 26 --compare-memory
"""
from __future__ import annotations

import argparse
import json
import math
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEACHER = 'synthetic'
RSS_FIELDS = ('VmRSS', 'RssAnon', 'RssFile', 'VmHWM')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Resident memory (main process and dataloader workers) and '
                                     'start-up time of VPDFrameDataset over a synthetic corpus of N frames.')
    parser.add_argument('--frames', type=int, default=5_000_000, help='eligible frames (default 5,000,000)')
    parser.add_argument('--frames-per-video', type=int, default=500, help='eligible frames per video (default 500)')
    parser.add_argument('--dim', type=int, default=128, help='teacher feature dimension d (26, 64, 128; default 128)')
    parser.add_argument('--workers', type=int, default=2, help='dataloader workers (default 2)')
    parser.add_argument('--samples', type=int, default=20_000,
                        help='random samples read per run, over all workers (default 20,000: one reference epoch)')
    parser.add_argument('--batch-size', type=int, default=100, help='batch size (default 100)')
    parser.add_argument('--compare-memory', action='store_true',
                        help="also measure targets='memory' (the whole table in RAM)")
    parser.add_argument('--dir', default=tempfile.gettempdir(),
                        help='where the temporary corpus is written (default: the system temporary folder)')
    parser.add_argument('--keep', action='store_true', help='keep the temporary corpus and cache')
    parser.add_argument('--measure', help=argparse.SUPPRESS)  # internal: one measurement, in a fresh process
    args = parser.parse_args(argv)
    if args.frames < 1 or args.frames_per_video < 1 or args.dim < 1 or args.workers < 0 or args.samples < 1:
        parser.error('--frames, --frames-per-video, --dim and --samples must be positive, --workers >= 0')
    return args


# ------------------------------------------------------------------------------------------------ measuring
def rss_mib() -> dict[str, float]:
    """VmRSS, RssAnon, RssFile and VmHWM (peak) of this process in MiB, from /proc/self/status."""
    fields = {}
    with open('/proc/self/status') as f:
        for line in f:
            key, _, value = line.partition(':')
            if key in RSS_FIELDS:
                fields[key] = int(value.split()[0]) / 1024
    return fields


def probe_collate(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """Runs in the worker: touches the batch's targets and reports the worker's memory."""
    checksum = float(sum(float(s['target'].sum() + s['prev_target'].sum()) for s in batch))
    return dict(pid=os.getpid(), n=len(batch), checksum=checksum, rss=rss_mib())


def read_epoch(dataset: Any, spec: dict[str, Any]) -> tuple[float, float, list[dict[str, Any]]]:
    """Read ``samples`` random samples of ``dataset`` through a DataLoader with ``workers`` workers.

    Returns:
        tuple: seconds to the first batch, seconds of the whole epoch, and per worker its samples and its memory
        at the first and at the last batch (empty with 0 workers).
    """
    from torch.utils.data import DataLoader

    from vpd_mm.datasets import ReplacementSampler
    sampler = ReplacementSampler(dataset, num_samples=spec['samples'], seed=0)
    loader = DataLoader(dataset, batch_size=spec['batch_size'], sampler=sampler, num_workers=spec['workers'],
                        collate_fn=probe_collate)
    start = time.perf_counter()
    batches = iter(loader)
    first = next(batches)
    first_batch = time.perf_counter() - start
    workers: dict[int, dict[str, Any]] = {}
    for batch in [first, *batches]:
        seen = workers.setdefault(batch['pid'], dict(first=batch['rss'], n=0))
        seen.update(last=batch['rss'], n=seen['n'] + batch['n'])
    epoch = time.perf_counter() - start
    workers.pop(os.getpid(), None)  # with 0 workers the main process read the samples itself
    return first_batch, epoch, list(workers.values())


class _NoDataset:
    """A few constant samples: the baseline memory of a worker forked before any dataset exists."""

    def __len__(self) -> int:
        return 1000

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        return dict(target=np.zeros((2, 1), np.float32), prev_target=np.zeros((2, 1), np.float32))


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """One run (in a fresh process): worker baseline, construct the dataset, then read ``samples`` random ones."""
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope

    import vpd_mm  # noqa: F401
    from vpd_mm.datasets import VPDFrameDataset

    init_default_scope('mmaction')
    MMLogger.get_instance('vpd_memory', log_level='WARNING')
    baseline = read_epoch(_NoDataset(), dict(spec, samples=spec['batch_size'] * max(1, spec['workers'])))[2]
    before = rss_mib()
    start = time.perf_counter()
    dataset = VPDFrameDataset(data_root=spec['root'], teacher=TEACHER, pipeline=[], split='train', min_score=0.5,
                              targets=spec['targets'])
    construct = time.perf_counter() - start
    constructed = rss_mib()
    first_batch, epoch, workers = read_epoch(dataset, spec)
    status = dataset.target_cache.status if dataset.target_cache else 'in memory'
    return dict(targets=spec['targets'], status=status, frames=len(dataset), eligible=dataset.num_eligible,
                dim=dataset.dim, construct_s=construct, first_batch_s=first_batch, epoch_s=epoch,
                before=before, constructed=constructed, after=rss_mib(), workers=workers,
                worker_baseline=max((w['last'] for w in baseline), key=lambda r: r['VmRSS'], default=None),
                target_nbytes=dataset.target_nbytes, index_nbytes=dataset.index_nbytes)


def run_measurement(args: argparse.Namespace, root: str, targets: str) -> dict[str, Any]:
    """:func:`measure` in a fresh Python process (its memory is its own)."""
    spec = dict(root=root, targets=targets, samples=args.samples, batch_size=args.batch_size, workers=args.workers)
    env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')
    done = subprocess.run([sys.executable, osp.abspath(__file__), '--measure', json.dumps(spec)], env=env,
                          stdout=subprocess.PIPE, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith('RESULT ')]
    if done.returncode or not lines:
        raise SystemExit(f'error: the {targets} measurement failed (exit status {done.returncode})')
    return json.loads(lines[-1][len('RESULT '):])


# ------------------------------------------------------------------------------------------------ the corpus
def needed_bytes(args: argparse.Namespace) -> int:
    """Disk needed: the teacher files and the cache, each about 8d + 8 bytes per frame, plus 10 %."""
    per_frame = 2 * 4 * args.dim + 12
    return int(2 * per_frame * args.frames * (1 + 1 / args.frames_per_video) * 1.1)


def _save(path: str, array: np.ndarray) -> None:
    np.save(path, array, allow_pickle=False)


def write_synthetic_corpus(root: str, args: argparse.Namespace) -> int:
    """Teacher files and frame-list-only crop/flow folders of ``ceil(frames / frames_per_video)`` videos.

    Video v stores frames 0..T (T = frames per video; the last video is shorter when needed), all with score 1 and
    random float32 features (T + 1, 2, d): T eligible frames (frame 0 has no previous frame).

    Returns:
        int: bytes of the teacher files.
    """
    from tqdm import tqdm
    num_videos = math.ceil(args.frames / args.frames_per_video)
    rng = np.random.default_rng(0)
    teacher_dir = osp.join(root, 'teacher', TEACHER)
    os.makedirs(teacher_dir)
    total = 0
    for v in tqdm(range(num_videos), desc='writing the synthetic corpus', unit='video', mininterval=2.0):
        video_id = f'v{v:07d}'
        count = min(args.frames_per_video, args.frames - v * args.frames_per_video) + 1
        frames = np.arange(count, dtype=np.int32)
        path = osp.join(teacher_dir, video_id + '.npz')
        np.savez(path, frames=frames, feats=rng.standard_normal((count, 2, args.dim), dtype=np.float32),
                 scores=np.ones(count, dtype=np.float32))
        total += osp.getsize(path)
        for store, items in (('crops', 2), ('flow', 1)):
            folder = osp.join(root, store, video_id)
            os.makedirs(folder)
            _save(osp.join(folder, 'frames.npy'), frames)
            _save(osp.join(folder, 'offsets.npy'), np.zeros(items * count + 1, dtype=np.int64))
            _save(osp.join(folder, 'data.npy'), np.zeros(0, dtype=np.uint8))
            with open(osp.join(folder, 'meta.json'), 'w') as f:
                json.dump(dict(video_id=video_id, num_frames=count, size=128, synthetic=True), f)
    return total


# ------------------------------------------------------------------------------------------------ report
def _mib(value: float) -> str:
    return f'{value:8.1f}'


def report(label: str, result: dict[str, Any]) -> None:
    """Print one run's start-up and memory figures."""
    base = result['before']['VmRSS']
    print(f'\n{label}: {result["frames"]:,} training frames of {result["eligible"]:,} eligible, d = {result["dim"]}, '
          f'target table {result["target_nbytes"] / 2 ** 20:,.0f} MiB, index {result["index_nbytes"] / 2 ** 20:,.1f} '
          'MiB')
    print(f'  construction                 {result["construct_s"]:8.3f} s   ({result["status"]})')
    print(f'  first batch                  {result["first_batch_s"]:8.2f} s   ready to train in '
          f'{result["construct_s"] + result["first_batch_s"]:.2f} s')
    print(f'  epoch of samples             {result["epoch_s"]:8.2f} s')
    print('  resident memory (MiB)           VmRSS    added  RssAnon  RssFile    VmHWM')
    for name, rss in (('main, before the dataset', result['before']), ('main, dataset built', result['constructed']),
                      ('main, after the epoch', result['after'])):
        print(f'  {name:28s}{_mib(rss["VmRSS"])} {_mib(rss["VmRSS"] - base)} {_mib(rss["RssAnon"])} '
              f'{_mib(rss["RssFile"])} {_mib(rss["VmHWM"])}')
    rows = [('worker before the dataset', result['worker_baseline'])] if result['worker_baseline'] else []
    rows += [(f'worker {i}, {w["n"]} samples', w['last']) for i, w in enumerate(result['workers'])]
    for label, rss in rows:
        added = rss['VmRSS'] - result['worker_baseline']['VmRSS']
        print(f'  {label:28s}{_mib(rss["VmRSS"])} {_mib(added)} {_mib(rss["RssAnon"])} {_mib(rss["RssFile"])} '
              f'{_mib(rss["VmHWM"])}')


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.measure:
        print('RESULT ' + json.dumps(measure(json.loads(args.measure))), flush=True)
        return
    need, free = needed_bytes(args), shutil.disk_usage(args.dir).free
    if need > free:
        raise SystemExit(f'error: {args.dir}: {free / 2 ** 30:.1f} GiB free, the benchmark needs about '
                         f'{need / 2 ** 30:.1f} GiB (use --dir or fewer --frames)')
    tmp = tempfile.mkdtemp(prefix='vpd_memory_', dir=args.dir)
    try:
        root = osp.join(tmp, 'corpus')
        start = time.perf_counter()
        teacher_bytes = write_synthetic_corpus(root, args)
        print(f'synthetic corpus {root}: {args.frames:,} eligible frames in '
              f'{math.ceil(args.frames / args.frames_per_video):,} videos, d = {args.dim}, teacher files '
              f'{teacher_bytes / 2 ** 30:.2f} GiB, written in {time.perf_counter() - start:.1f} s', flush=True)
        print(f'{args.workers} workers, {args.samples:,} random samples per run, batch {args.batch_size}, '
              f'{len(os.sched_getaffinity(0))} cores', flush=True)
        report("targets='mmap', first construction (builds the cache)", run_measurement(args, root, 'mmap'))
        cache = osp.join(root, 'cache', 'frame_index')
        cache_bytes = sum(osp.getsize(osp.join(d, f)) for d, _, files in os.walk(cache) for f in files)
        print(f'  cache on disk                {cache_bytes / 2 ** 30:8.2f} GiB')
        report("targets='mmap', start-up with the cache", run_measurement(args, root, 'mmap'))
        if args.compare_memory:
            report("targets='memory' (the table in RAM)", run_measurement(args, root, 'memory'))
    finally:
        if args.keep:
            print(f'kept {tmp}')
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
