"""Distillation throughput: training frames/s through the real data pipeline vs. the bare model step, in one run.

Figures printed, per storage and per number of dataloader workers:
  1. storage read alone       frames/s of the loading transform only (crop + flow of one sample), main process,
                              best of 3 passes over the drawn frames
  2. data pipeline alone      frames/s of the train dataloader (loading, augmentations, collation); and, in the
                              main process, the per-sample milliseconds of each pipeline transform
  3. training, real pipeline  frames/s of ``train_step`` fed by that dataloader (our storage; the reference layout
                              too with ``--train-reference``)
and once:
  4. training, bare model     frames/s of ``train_step`` on one batch already in memory
  5. ratio 3 / 4              1.0 means the data pipeline costs nothing; below 1 it is the bottleneck
  6. worker transfer ceiling  per worker count > 0, frames/s of the same dataloader over a dataset that returns one
                              ready sample of ours (no reading, no transforms): what collation and the transfer
                              from workers alone allow on this machine
  7. index memory             bytes per eligible frame of the frame index (and of the target table), and both
                              extrapolated to 5 million frames
  8. worker memory            per worker count > 0, each worker of our training dataloader after the timed
                              passes: private MiB (its own pages: heap, copies on write) and resident MiB (with the
                              pages it shares); ``--malloc glibc`` shows what the config's heap thresholds keep
Figures 2-4 and 6 are the best of ``--repeats`` passes (each pass measures everything once, in the same order), so
that other load on a shared machine, which only ever slows a pass down, disturbs them less. Each dataloader is built
once and its workers are persistent (as in the configs): the first pass includes starting them, the later ones time
the steady state, as in a training run.

Storage. ``--storage ours`` (default) reads our crop store (``crops/``, ``flow/``: JPEG crops and zlib int8 flow
packed in memory-mapped arrays). ``--storage reference-png`` measures ours AND the reference's layout in the same
run: the frames the sampler draws are written the reference's way (spec/reference_vpd.md sections 3.2, 4, 5), one
``<frame>.png`` crop (OpenCV defaults) and one ``<frame>.flow.png`` flow field (clip +-20 px, (f + 20) * 255 / 41 as
uint8, B = dx, G = dy, R = 128, PNG compression 9) per frame, from our decoded crops and flow, and read per sample
with ``cv2.imread`` (then BGR -> RGB and the flow decoded to pixels); the rest of the pipeline is the same. Both
layouts are warm in the page cache. The reference also stores ``<frame>.prev.png``, which training never reads;
it is not written. With ``--reference-code`` a third pipeline, ``reference-code``, reads that layout and does the
reference's own per-sample work (torchvision ``ColorJitter``, ``Normalize``, tensor mirror and ``RandomResizedCrop``,
re-implemented from spec section 3.5): "faster than the authors' code", as against "faster storage".
Target (issue 15): ours >= 2x the reference layout, training >= 0.9 of the bare model step.

Collation: the dataloaders use the config's ``collate_fn`` (``shared_storage_collate`` in the distillation configs:
a worker sends a batch as one shared-memory block, reused once the main process has freed it, instead of 3 blocks
per sample, the inputs cast to float16 in that copy); ``--collate pseudo_collate`` times mmengine's default, and
``--sharing-strategy file_system`` torch's other way of sharing tensors, for comparison.

Process set-up: as mmengine's Runner sets up a training run, before any worker forks: the config's
``env_cfg.mp_cfg`` (OpenCV on one thread in mmaction2's runtime; left at OpenCV's default, each process runs a
thread per core and the workers over-subscribe the cores) and its ``MallocThresholdHook`` (glibc keeps a freed
batch's heap for the next batch); ``--malloc glibc`` leaves glibc's defaults, for comparison. Every dataloader's
workers fork before the first model step, as a training run's fork at its first epoch: they start from the heap
state of a process that has not trained yet (glibc adapts its thresholds to the largest blocks freed so far, and a
training step on the CPU frees blocks of tens of MB).

Example (this machine, tiny synthetic corpus generated on the fly; real 128 x 128 pipeline, ResNet-34):
    python benchmarks/distill_throughput.py --batch-size 16 --iters 6
    python benchmarks/distill_throughput.py --storage reference-png --batch-size 16 --iters 6 --workers 0 2
    python benchmarks/distill_throughput.py --storage reference-png --reference-code --batch-size 16 --iters 6
    python benchmarks/distill_throughput.py --storage reference-png --workers 0 2 8   # on a GPU: the paper's size
    python benchmarks/distill_throughput.py --config configs/vpd/vi_vpd_fx35.py --corpus data/fx35 --workers 16
"""
from __future__ import annotations

import argparse
import functools
import os
import os.path as osp
import tempfile
import time
from typing import Any, Callable, Iterable

import cv2
import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
STORAGES = ('ours', 'reference-png')
REF_FLOW_CLIP = 20.0
REF_FLOW_SCALE = 255.0 / 41.0  # the reference's to_img: (flow + 20) * 255 / 41, truncated to uint8


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    default_workers = min(8, len(os.sched_getaffinity(0)))
    parser = argparse.ArgumentParser(description='Training frames/s of VPD distillation through the real data '
                                     'pipeline vs. the bare model step on in-memory tensors; optionally our crop '
                                     "store against the reference's one-PNG-per-crop-and-flow layout.")
    parser.add_argument('--config', default=osp.join(REPO, 'configs/vpd/2d_vpd_fx35.py'),
                        help='distillation config (default: configs/vpd/2d_vpd_fx35.py, the 128 x 128 recipe)')
    parser.add_argument('--corpus', help='corpus with crops, flow and the config\'s teacher (default: the tiny '
                        'synthetic corpus, generated in a temporary folder, with the pose2d teacher)')
    parser.add_argument('--storage', choices=STORAGES, default='ours',
                        help="'ours' (default) or 'reference-png': ours and the reference's PNG layout, same frames, "
                        'same run')
    parser.add_argument('--batch-size', type=int, default=None, help='batch size (default: the config\'s)')
    parser.add_argument('--iters', type=int, default=10, help='timed training iterations per pass (default 10)')
    parser.add_argument('--data-iters', type=int, default=30,
                        help='timed iterations of the data pipeline alone per pass (default 30)')
    parser.add_argument('--repeats', type=int, default=2,
                        help='passes over every measurement; the best is kept (default 2)')
    parser.add_argument('--reference-code', action='store_true',
                        help="with --storage reference-png, also time the reference's own per-sample transforms "
                        "(torchvision tensor ops, re-implemented from the spec) on that layout: 'reference-code'")
    parser.add_argument('--train-reference', action='store_true',
                        help='with --storage reference-png, also time training fed by the reference layout')
    parser.add_argument('--warmup', type=int, default=2, help='untimed iterations first (default 2)')
    parser.add_argument('--workers', type=int, nargs='+', default=None,
                        help=f'dataloader workers, one or more counts (default: min(8, cores) = {default_workers}; '
                        'with --storage reference-png: 0 2)')
    parser.add_argument('--collate', help="collate function of the dataloaders (default: the config's "
                        "train_dataloader.collate_fn, else mmengine's pseudo_collate), e.g. pseudo_collate")
    parser.add_argument('--sharing-strategy', choices=('file_descriptor', 'file_system'),
                        help="torch.multiprocessing's sharing strategy for the workers' tensors (default: torch's, "
                        "file_descriptor on Linux: each storage's descriptor is handed over through a socket round "
                        "trip; file_system: shared by name)")
    parser.add_argument('--malloc', choices=('config', 'glibc'), default='config',
                        help="heap thresholds of this process and its workers: 'config' (default) applies the "
                        "config's MallocThresholdHook as a training run does, 'glibc' leaves glibc's defaults")
    parser.add_argument('--device', help='torch device (default: cuda when available, else cpu)')
    parser.add_argument('--amp', action='store_true',
                        help="mixed precision (mmengine's AmpOptimWrapper, as tools/train.py --amp); needs CUDA")
    args = parser.parse_args(argv)
    if (args.reference_code or args.train_reference) and args.storage != 'reference-png':
        parser.error('--reference-code and --train-reference need --storage reference-png')
    if args.workers is None:
        args.workers = [0, 2] if args.storage == 'reference-png' else [default_workers]
    if min(args.workers) < 0 or min(args.iters, args.data_iters, args.repeats) < 1 or args.warmup < 0:
        parser.error('--workers and --warmup must be >= 0, --iters, --data-iters and --repeats >= 1')
    return args


def tiny_corpus(root: str) -> str:
    """The tiny synthetic corpus with crops, flow and the pose2d teacher (as tools/demo.py writes it)."""
    from vpd_mm.corpus import FeatureTrack
    from vpd_mm.pose import keypoint_score, pose2d_feature
    from vpd_mm.testing import add_crops_and_flow, make_tiny_corpus
    corpus = make_tiny_corpus(root, seed=0)
    add_crops_and_flow(corpus)
    for video_id, pose in corpus.iter_pose():
        feats = np.stack([pose2d_feature(pose.keypoints), pose2d_feature(pose.keypoints, flip=True)], axis=1)
        corpus.write_features('teacher', 'pose2d', video_id,
                              FeatureTrack(pose.frames, feats, keypoint_score(pose.scores).astype(np.float32)))
    return root


# ------------------------------------------------------------------------------------------------ the reference layout
def encode_reference_flow(flow: np.ndarray) -> np.ndarray:
    """(H, W, 2) float pixels -> (H, W, 3) uint8 BGR image of the reference's ``to_img``: B = dx, G = dy, R = 128."""
    codes = ((np.clip(flow, -REF_FLOW_CLIP, REF_FLOW_CLIP) + REF_FLOW_CLIP) * REF_FLOW_SCALE).astype(np.uint8)
    return np.dstack([codes, np.full(codes.shape[:2], 128, np.uint8)])


def write_reference_layout(dataset: Any, indices: Iterable[int], root: str) -> tuple[int, int]:
    """Write the samples ``indices`` of ``dataset`` as ``<root>/<video>/<frame>.png`` and ``<frame>.flow.png``.

    Returns:
        tuple[int, int]: frames written and their bytes (crop + flow PNG).
    """
    from vpd_mm.corpus import CropStore
    store = CropStore(dataset.data_root)
    count = size = 0
    for index in sorted(set(int(i) for i in indices)):
        info = dataset.get_data_info(index)
        folder = osp.join(root, info['video_id'])
        os.makedirs(folder, exist_ok=True)
        crop = store.read_crop(info['video_id'], info['frame'])
        crop_path, flow_path = (osp.join(folder, f"{info['frame']}{ext}") for ext in ('.png', '.flow.png'))
        cv2.imwrite(crop_path, cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
        cv2.imwrite(flow_path, encode_reference_flow(store.read_flow(info['video_id'], info['frame'])),
                    [cv2.IMWRITE_PNG_COMPRESSION, 9])
        count += 1
        size += osp.getsize(crop_path) + osp.getsize(flow_path)
    return count, size


def reference_loader(root: str, template: dict[str, Any]) -> Any:
    """A loading transform reading the reference layout under ``root`` per sample with ``cv2.imread``; keeps the
    options (``size``, ``with_flow``) of the config's ``LoadCropAndFlow`` ``template``."""
    from vpd_mm.datasets.transforms.loading import LoadCropAndFlow

    class LoadReferencePNG(LoadCropAndFlow):
        """``<frame>.png`` -> ``img`` (RGB uint8); ``<frame>.flow.png`` -> ``flow`` (H, W, 2) float32 pixels."""

        def transform(self, results: dict[str, Any]) -> dict[str, Any]:
            stem = osp.join(root, results['video_id'], str(int(results['frame'])))
            image = cv2.imread(stem + '.png')
            if image is None:
                raise FileNotFoundError(stem + '.png')
            results['img'] = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            if (results.get('with_flow', True) if self.with_flow is None else self.with_flow):
                codes = cv2.imread(stem + '.flow.png')
                if codes is None:
                    raise FileNotFoundError(stem + '.flow.png')
                results['flow'] = codes[..., :2].astype(np.float32) / np.float32(REF_FLOW_SCALE) - REF_FLOW_CLIP
            if self.size is not None:
                self._resize(results)
            return results

    options = {k: v for k, v in template.items() if k != 'type'}
    return LoadReferencePNG(**options)


def reference_code_pipeline(root: str, rgb_mean: list[float], rgb_std: list[float], size: int) -> Any:
    """The reference's whole per-sample work as one transform, re-implemented from spec/reference_vpd.md sections
    3.2 and 3.5 (its code is not vendored): the PNG layout under ``root`` read with ``cv2.imread``, flip coin and
    teacher row, torchvision's ``ColorJitter(0.2, 0.2, 0.05, 0.05)`` and ``Normalize`` on the float RGB tensor,
    flow ``value / 255 - 0.5``, mirror of the 5-channel tensor (flow x negated), torchvision's
    ``RandomResizedCrop(size, (0.5, 1.0), (0.9, 1.1))`` on it; the noise needs person masks, which the corpus lacks
    (skipped, as in our pipeline). Returns ``inputs`` and ``data_samples`` like ``PackDistillInputs``."""
    import torch
    import torchvision.transforms as T
    from mmaction.structures import ActionDataSample
    from mmcv.transforms import BaseTransform

    jitter = T.ColorJitter(0.2, 0.2, 0.05, 0.05)
    normalize = T.Normalize(rgb_mean, rgb_std)
    resized_crop = T.RandomResizedCrop(size, scale=(0.5, 1.0), ratio=(0.9, 1.1), antialias=False)

    class ReferenceGetItem(BaseTransform):
        def transform(self, results: dict[str, Any]) -> dict[str, Any]:
            stem = osp.join(root, results['video_id'], str(int(results['frame'])))
            target, prev = np.asarray(results['target']), np.asarray(results['prev_target'])
            flip = target.shape[0] == 2 and np.random.rand() < 0.5
            image = cv2.imread(stem + '.png')
            if image is None:
                raise FileNotFoundError(stem + '.png')
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            if image.shape[0] != size:
                image = cv2.resize(image, (size, size))
            rgb = normalize(jitter(torch.from_numpy(image).permute(2, 0, 1).float() / 255))
            codes = cv2.imread(stem + '.flow.png')
            if codes is None:
                raise FileNotFoundError(stem + '.flow.png')
            flow = torch.from_numpy(codes[..., :2]).permute(2, 0, 1).float() / 255 - 0.5
            inputs = torch.cat([rgb, flow])
            if flip:
                inputs = inputs.flip(2)
                inputs[3] = -inputs[3]
            inputs = resized_crop(inputs)
            row = int(flip)
            sample = ActionDataSample()
            sample.gt_pose = torch.from_numpy(target[row].astype(np.float32))
            sample.gt_motion = torch.from_numpy((target[row] - prev[row]).astype(np.float32))
            return dict(inputs=inputs, data_samples=sample)

    return ReferenceGetItem()


def with_prev_loader(template: dict[str, Any]) -> Any:
    """The config's ``LoadCropAndFlow`` with ``with_prev=True``: also decodes the previous crop, as every sample did
    before ``CropStore.read_crop`` (issue 15); timed in "storage read alone" only, for comparison."""
    from vpd_mm.datasets.transforms.loading import LoadCropAndFlow
    return LoadCropAndFlow(**dict({k: v for k, v in template.items() if k != 'type'}, with_prev=True))


def store_bytes_per_frame(corpus_root: str, with_flow: bool) -> tuple[float, float]:
    """Bytes per frame of our crop store: stored (crop + previous crop, + flow: data.npy sizes / frames) and read by
    training (the crop, + flow: the previous crop is not read)."""
    stored = read = frames = 0
    for store in ('crops', 'flow') if with_flow else ('crops',):
        folder = osp.join(corpus_root, store)
        for video_id in os.listdir(folder):
            if video_id.startswith('.'):
                continue
            stored += osp.getsize(osp.join(folder, video_id, 'data.npy'))
            sizes = np.diff(np.load(osp.join(folder, video_id, 'offsets.npy')))
            read += int(sizes[0::2].sum()) if store == 'crops' else int(sizes.sum())
            if store == 'crops':
                frames += len(np.load(osp.join(folder, video_id, 'frames.npy'), mmap_mode='r'))
    return stored / max(frames, 1), read / max(frames, 1)


# ------------------------------------------------------------------------------------------------ timing
class ReadySamples:
    """A map-style dataset of ``length`` items, each a fresh shallow copy of one prepared ``sample`` (its tensors
    shared, as a pipeline's output would be new): times collation and the worker transfer without the pipeline."""

    def __init__(self, sample: dict[str, Any], length: int) -> None:
        self.sample, self.length = sample, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:
        return dict(inputs=self.sample['inputs'].clone(), data_samples=self.sample['data_samples'].clone())


def read_alone_fps(dataset: Any, load: Callable, indices: list[int]) -> float:
    """Frames/s of the loading transform alone over ``indices`` in this process (the best of 3 passes)."""
    infos = [dataset.get_data_info(i) for i in indices]
    best = float('inf')
    for _ in range(3):
        start = time.perf_counter()
        for info in infos:
            load(dict(info))
        best = min(best, time.perf_counter() - start)
    return len(infos) / best


def transform_breakdown(dataset: Any, indices: list[int], passes: int = 3) -> tuple[float, dict[str, float]]:
    """Per-sample milliseconds of ``dataset[i]`` over ``indices`` in this process and of each of its parts:
    ``get_data_info`` (index and targets) and every pipeline transform, from the fastest of ``passes`` passes
    (numpy's and torch's global random states reseeded per pass, so both storages draw the same augmentations).

    Returns:
        tuple[float, dict[str, float]]: ms per sample in all, and ms per sample per part (in pipeline order).
    """
    import torch
    best: tuple[float, dict[str, float]] = (float('inf'), {})
    transforms = list(dataset.pipeline.transforms)
    for _ in range(passes):
        np.random.seed(0)
        torch.manual_seed(0)
        parts = dict.fromkeys(['dataset (index, targets)'] + [type(t).__name__ for t in transforms], 0.0)
        start = time.perf_counter()
        for index in indices:
            tick = time.perf_counter()
            data = dataset.get_data_info(index)
            tock = time.perf_counter()
            parts['dataset (index, targets)'] += tock - tick
            for t in transforms:
                data = t(data)
                tick, tock = tock, time.perf_counter()
                parts[type(t).__name__] += tock - tick
        total = time.perf_counter() - start
        if total < best[0]:
            best = (total, parts)
    scale = 1e3 / max(len(indices), 1)
    return best[0] * scale, {name: seconds * scale for name, seconds in best[1].items()}


def worker_memory(loader: Any) -> list[tuple[float, float]]:
    """(private, resident) MiB of each live worker of a dataloader with persistent workers, from
    ``/proc/<pid>/smaps_rollup``: private counts the pages the worker alone maps (its heap, what it copied on write
    from the parent), resident also the pages it shares (the libraries, the parent's untouched pages, batch blocks
    the main process maps too). Empty where the workers or ``/proc`` are not there."""
    workers = getattr(getattr(loader, '_iterator', None), '_workers', None) or []
    sizes = []
    for worker in workers:
        try:
            with open(f'/proc/{worker.pid}/smaps_rollup') as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        kib = {line.split(':')[0]: int(line.split()[1]) for line in lines if line.endswith(' kB')}
        sizes.append(((kib.get('Private_Clean', 0) + kib.get('Private_Dirty', 0)) / 1024, kib.get('Rss', 0) / 1024))
    return sizes


def runner_process_setup(cfg: Any, malloc: bool) -> str:
    """Set up this process as mmengine's Runner sets up a training run's, before its dataloader workers fork:
    ``env_cfg.mp_cfg`` (start method, OpenCV's thread count: 0, i.e. one thread, in mmaction2's runtime) and, with
    ``malloc``, the config's ``MallocThresholdHook``. Returns what was set, for the printed config line."""
    from mmengine.utils.dl_utils import set_multi_processing

    from mmaction.registry import HOOKS

    set_multi_processing(**cfg.get('env_cfg', {}).get('mp_cfg', {}))
    done = f'OpenCV threads {cv2.getNumThreads()} (env_cfg)'
    hooks = [dict(h) for h in cfg.get('custom_hooks', [])
             if str(h.get('type')).split('.')[-1] == 'MallocThresholdHook']
    if not hooks:
        return done + ', glibc heap thresholds (no MallocThresholdHook in the config)'
    if not malloc:
        return done + ', glibc heap thresholds (--malloc glibc)'
    hook = HOOKS.build(hooks[0])  # the config's hook, built and run as the Runner runs it
    hook.before_run(None)
    if not hook.applied:
        return done + ', glibc heap thresholds (the C library is not glibc)'
    return done + (f', heap thresholds mmap {hook.mmap_threshold >> 20} MiB / trim {hook.trim_threshold >> 20} MiB '
                   '(MallocThresholdHook)')


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'error: config file {args.config} does not exist')
    import torch
    from mmengine.config import Config
    from mmengine.registry import FUNCTIONS
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from torch.utils.data import DataLoader

    import vpd_mm  # noqa: F401
    import vpd_mm.engine  # noqa: F401
    from mmaction.registry import DATASETS, MODELS, TRANSFORMS
    from vpd_mm.datasets import ReplacementSampler

    init_default_scope('mmaction')
    if args.sharing_strategy:
        torch.multiprocessing.set_sharing_strategy(args.sharing_strategy)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    cfg = Config.fromfile(args.config)
    process_setup = runner_process_setup(cfg, args.malloc == 'config')
    tmp = tempfile.TemporaryDirectory(prefix='vpd_bench_')
    if args.corpus is None:
        print('generating the tiny synthetic corpus (crops, flow, pose2d teacher) ...', flush=True)
        args.corpus = tiny_corpus(osp.join(tmp.name, 'corpus'))
        cfg.train_dataloader.dataset.teacher = 'pose2d'
        cfg.model.backbone.out_dim = cfg.model.head.in_dim = 26
    collate_cfg = dict(cfg.train_dataloader.get('collate_fn', None) or dict(type='pseudo_collate'))
    if args.collate is not None:
        collate_cfg = dict(type=args.collate)
    collate_name = collate_cfg.pop('type')
    collate_fn = FUNCTIONS.get(collate_name)
    if collate_fn is None:
        raise SystemExit(f'error: {args.config}: unknown collate function {collate_name!r}')
    collate_fn = functools.partial(collate_fn, **collate_cfg)
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = args.corpus
    batch_size = args.batch_size or cfg.train_dataloader.batch_size
    total_iters = args.iters + args.warmup
    data_iters = args.data_iters + args.warmup

    datasets = {'ours': DATASETS.build(dataset_cfg)}
    dataset = datasets['ours']
    drawn = sorted(set(list(ReplacementSampler(dataset, num_samples=batch_size * total_iters, seed=0))
                       + list(ReplacementSampler(dataset, num_samples=batch_size * data_iters, seed=0))))
    load_cfg = dict(dataset_cfg.pipeline[0])
    if load_cfg.get('type') != 'LoadCropAndFlow':
        raise SystemExit(f'error: {args.config}: the train pipeline must start with LoadCropAndFlow')
    loaders = {'ours': TRANSFORMS.build(load_cfg)}
    ref_bytes = None
    if args.storage == 'reference-png':
        ref_root = osp.join(tmp.name, 'reference_png')
        print(f'writing the {len(drawn)} drawn frames in the reference layout ...', flush=True)
        written, size = write_reference_layout(dataset, drawn, ref_root)
        ref_bytes = size / written
        loaders['reference-png'] = reference_loader(ref_root, load_cfg)
        datasets['reference-png'] = DATASETS.build(dataset_cfg)
        datasets['reference-png'].pipeline.transforms[0] = loaders['reference-png']
        if args.reference_code:
            preprocessor = cfg.model.data_preprocessor
            datasets['reference-code'] = DATASETS.build(dataset_cfg)
            datasets['reference-code'].pipeline.transforms[:] = [reference_code_pipeline(
                ref_root, [m / 255 for m in preprocessor.mean[:3]], [s / 255 for s in preprocessor.std[:3]],
                size=int(load_cfg.get('size') or 128))]
    trained = ('ours', 'reference-png') if args.train_reference else ('ours',)

    model = MODELS.build(cfg.model).to(device)
    if args.amp:
        if not device.startswith('cuda'):
            raise SystemExit('error: --amp needs a CUDA device')
        cfg.optim_wrapper = dict(cfg.optim_wrapper, type='AmpOptimWrapper', loss_scale='dynamic')
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    model.train()

    def sync() -> None:
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    def seconds(batches, step) -> float:
        """Wall time of ``step`` over the batches after the warm-up ones."""
        start = 0.0
        for i, batch in enumerate(batches):
            if i == args.warmup:
                sync()
                start = time.perf_counter()
            step(batch)
        sync()
        return time.perf_counter() - start

    built: dict[tuple, DataLoader] = {}

    def loader_of(storage: str, workers: int, iters: int) -> DataLoader:
        """One dataloader per setting, its workers persistent as in the configs: every pass after the first
        times it in the steady state, without starting processes (the same draw each pass)."""
        if (storage, workers, iters) not in built:
            dataset = ready if storage == 'ready' else datasets[storage]
            sampler = ReplacementSampler(dataset, num_samples=batch_size * iters, seed=0)
            built[storage, workers, iters] = DataLoader(
                dataset, batch_size=batch_size, sampler=sampler, num_workers=workers, collate_fn=collate_fn,
                persistent_workers=workers > 0)
        return built[storage, workers, iters]

    frames = args.iters * batch_size
    ready = ReadySamples(dataset[drawn[0]], batch_size * data_iters)
    for workers in args.workers:  # every worker forks before the first model step, as a training run's do
        if workers > 0:
            for storage in [*datasets, 'ready']:
                iter(loader_of(storage, workers, data_iters))
            for storage in trained:
                iter(loader_of(storage, workers, total_iters))
    ceiling: dict[int, float] = {}
    results: dict[tuple[str, int], dict[str, float]] = {}
    kept: list = []
    bare_fps = 0.0
    for repeat in range(args.repeats):  # the best of the repeats: other load on the machine only slows a pass down
        for workers in args.workers:
            for storage in datasets:
                best = results.setdefault((storage, workers), dict(data=0.0, train=0.0))
                data_fps = args.data_iters * batch_size / seconds(loader_of(storage, workers, data_iters),
                                                                  lambda batch: None)
                best['data'] = max(best['data'], data_fps)
                line = f'  pass {repeat + 1}: {storage:13s} {workers} workers: data pipeline {data_fps:.1f}'
                if storage in trained:
                    train_fps = frames / seconds(
                        loader_of(storage, workers, total_iters),
                        lambda batch: (kept.append(batch) if not kept else None,
                                       model.train_step(batch, optim_wrapper)))
                    best['train'] = max(best['train'], train_fps)
                    line += f', training {train_fps:.1f}'
                print(line + ' frames/s', flush=True)
        for workers in args.workers:
            if workers > 0:
                fps = args.data_iters * batch_size / seconds(loader_of('ready', workers, data_iters),
                                                             lambda batch: None)
                ceiling[workers] = max(ceiling.get(workers, 0.0), fps)
                print(f'  pass {repeat + 1}: ready samples  {workers} workers: {fps:.1f} frames/s', flush=True)
        resident = model.data_preprocessor.cast_data(kept[0])  # one batch already on the device
        fps = frames / seconds((resident for _ in range(total_iters)),
                               lambda batch: model.train_step(batch, optim_wrapper))
        bare_fps = max(bare_fps, fps)
        print(f'  pass {repeat + 1}: bare model step {fps:.1f} frames/s', flush=True)
    memory = {workers: worker_memory(loader_of('ours', workers, total_iters))  # our training dataloader's workers
              for workers in args.workers if workers > 0}
    alone = {storage: read_alone_fps(datasets[storage], load, drawn) for storage, load in loaders.items()}
    with_prev = read_alone_fps(dataset, with_prev_loader(load_cfg), drawn)
    breakdown = {storage: transform_breakdown(datasets[storage], drawn) for storage in datasets}

    per_frame = dataset.index_nbytes / dataset.num_eligible
    target_per_frame = dataset.target_nbytes / dataset.num_eligible
    arch = cfg.model.backbone.arch
    channels = cfg.model.backbone.in_channels
    threads = torch.get_num_threads()
    collate_options = ', '.join(f'{k}={v!r}' for k, v in collate_cfg.items())
    print(f'\nconfig {osp.relpath(args.config, REPO)}: {arch}, {channels} channels, batch {batch_size}, '
          f'collate {collate_name}({collate_options}), sharing strategy '
          f'{torch.multiprocessing.get_sharing_strategy()}, device {device}, {threads} torch threads, '
          f'{len(os.sched_getaffinity(0))} cores; {process_setup}; {args.iters} timed '
          f'training and {args.data_iters} data iterations per pass, best of {args.repeats} passes')
    print(f'corpus {args.corpus}: {dataset.num_eligible} eligible frames in {len(dataset.video_ids)} videos, '
          f'teacher {dataset.teacher} (d = {dataset.dim})')
    print('  storage read alone, 1 process    ' + ', '.join(f'{s} {alone[s]:.1f}' for s in alone) + ' frames/s'
          + (f'  (ours / reference-png {alone["ours"] / alone["reference-png"]:.2f})' if 'reference-png' in alone
             else ''))
    print(f'    ours also decoding the previous crop (with_prev=True): {with_prev:.1f} frames/s'
          + (f'  (/ reference-png {with_prev / alone["reference-png"]:.2f})' if 'reference-png' in alone else ''))
    stored, read = store_bytes_per_frame(args.corpus, dataset.with_flow)
    print(f'  bytes per frame                  ours {stored:,.0f} stored (crop, previous crop and flow), {read:,.0f} '
          'read (crop and flow)'
          + (f', reference-png {ref_bytes:,.0f} (crop + flow PNG)' if ref_bytes else ''))
    for workers in args.workers:
        for storage in datasets:
            result = results[storage, workers]
            label = f'{storage}, {workers} workers'
            training = (f'   training, real pipeline {result["train"]:8.1f} frames/s   ratio / bare '
                        f'{result["train"] / bare_fps:6.3f}' if storage in trained else '')
            print(f'  {label:24s} data pipeline alone {result["data"]:9.1f} frames/s{training}')
        if workers in ceiling:
            print(f'  {"":24s} ceiling: ready samples, no pipeline {ceiling[workers]:9.1f} frames/s '
                  '(collation and transfer alone)')
        for reference in ('reference-png', 'reference-code'):
            if reference in datasets:
                ratio = results['ours', workers]['data'] / results[reference, workers]['data']
                print(f'  {"":24s} data pipeline ours / {reference:14s} {ratio:6.2f}')
    for workers, sizes in memory.items():
        if sizes:
            print(f'  worker memory, ours, {workers} workers, after training (MiB per worker): private '
                  + ' / '.join(f'{private:.0f}' for private, _ in sizes) + ', resident '
                  + ' / '.join(f'{resident:.0f}' for _, resident in sizes))
    print('  per-sample time of the train pipeline, 1 process (ms; share of the sample):')
    for storage, (total, parts) in breakdown.items():
        print(f'    {storage:13s} {total:6.3f} in all: '
              + ', '.join(f'{name} {ms:.3f} ({ms / total:.0%})' for name, ms in parts.items()))
    print(f'  training, bare model step    {bare_fps:10.1f} frames/s')
    best = max(results[s, w]['train'] for s, w in results if s == 'ours')
    print(f'  ratio pipeline / bare        {best / bare_fps:10.3f}   (ours, best worker count)')
    print(f'  frame index                  {per_frame:10.2f} bytes/frame -> '
          f'{per_frame * 5e6 / 2 ** 20:.1f} MiB for 5 million frames')
    print(f'  target table (float32, d={dataset.dim:<3d})  {target_per_frame:7.1f} bytes/frame -> '
          f'{target_per_frame * 5e6 / 2 ** 20:.1f} MiB for 5 million frames '
          f"(in RAM with targets='memory'; on disk, read per sample, with targets='mmap')")
    tmp.cleanup()


if __name__ == '__main__':
    main()
