"""Distillation throughput: training frames/s through the real data pipeline vs. the bare model step, in one run.

Figures printed:
  1. data pipeline alone      frames/s of the train dataloader (crop + flow decoding, augmentations, collation)
  2. training, real pipeline  frames/s of ``train_step`` fed by that dataloader
  3. training, bare model     frames/s of ``train_step`` on one batch already in memory
  4. ratio 2 / 3              1.0 means the data pipeline costs nothing; below 1 it is the bottleneck
  5. index memory             bytes per eligible frame of the frame index (and of the target table), and both
                              extrapolated to 5 million frames

Example (this machine, tiny synthetic corpus generated on the fly; real 128 x 128 pipeline, ResNet-34):
    python benchmarks/distill_throughput.py --batch-size 16 --iters 6
    python benchmarks/distill_throughput.py --config configs/vpd/vi_vpd_fx35.py --corpus data/fx35 --workers 16
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    default_workers = min(8, len(os.sched_getaffinity(0)))
    parser = argparse.ArgumentParser(description='Training frames/s of VPD distillation through the real data '
                                     'pipeline vs. the bare model step on in-memory tensors.')
    parser.add_argument('--config', default=osp.join(REPO, 'configs/vpd/2d_vpd_fx35.py'),
                        help='distillation config (default: configs/vpd/2d_vpd_fx35.py, the 128 x 128 recipe)')
    parser.add_argument('--corpus', help='corpus with crops, flow and the config\'s teacher (default: the tiny '
                        'synthetic corpus, generated in a temporary folder, with the pose2d teacher)')
    parser.add_argument('--batch-size', type=int, default=None, help='batch size (default: the config\'s)')
    parser.add_argument('--iters', type=int, default=10, help='timed iterations per measurement (default 10)')
    parser.add_argument('--warmup', type=int, default=2, help='untimed iterations first (default 2)')
    parser.add_argument('--workers', type=int, default=default_workers,
                        help=f'dataloader workers (default: min(8, cores) = {default_workers})')
    parser.add_argument('--device', help='torch device (default: cuda when available, else cpu)')
    return parser.parse_args(argv)


def tiny_corpus(root: str) -> str:
    """The tiny synthetic corpus with crops, flow and the pose2d teacher (as tools/demo.py writes it)."""
    import numpy as np

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


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'error: config file {args.config} does not exist')
    import torch
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from torch.utils.data import DataLoader

    import vpd_mm  # noqa: F401
    import vpd_mm.engine  # noqa: F401
    from mmaction.registry import DATASETS, MODELS
    from vpd_mm.datasets import ReplacementSampler

    init_default_scope('mmaction')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    cfg = Config.fromfile(args.config)
    tmp = None
    if args.corpus is None:
        tmp = tempfile.TemporaryDirectory(prefix='vpd_bench_')
        print('generating the tiny synthetic corpus (crops, flow, pose2d teacher) ...', flush=True)
        args.corpus = tiny_corpus(osp.join(tmp.name, 'corpus'))
        cfg.train_dataloader.dataset.teacher = 'pose2d'
        cfg.model.backbone.out_dim = cfg.model.head.in_dim = 26
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = args.corpus
    batch_size = args.batch_size or cfg.train_dataloader.batch_size
    total_iters = args.iters + args.warmup

    dataset = DATASETS.build(dataset_cfg)
    sampler = ReplacementSampler(dataset, num_samples=batch_size * total_iters, seed=0)
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=args.workers,
                        collate_fn=pseudo_collate, persistent_workers=args.workers > 0)
    model = MODELS.build(cfg.model).to(device)
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

    frames = args.iters * batch_size
    data_fps = frames / seconds(loader, lambda batch: None)
    kept = []
    pipeline_fps = frames / seconds(loader, lambda batch: (kept.append(batch) if not kept else None,
                                                           model.train_step(batch, optim_wrapper)))
    resident = model.data_preprocessor.cast_data(kept[0])  # one batch already on the device
    bare_fps = frames / seconds((resident for _ in range(total_iters)),
                                lambda batch: model.train_step(batch, optim_wrapper))

    per_frame = dataset.index_nbytes / dataset.num_eligible
    target_per_frame = dataset.target_nbytes / dataset.num_eligible
    arch = cfg.model.backbone.arch
    channels = cfg.model.backbone.in_channels
    threads = torch.get_num_threads()
    print(f'\nconfig {osp.relpath(args.config, REPO)}: {arch}, {channels} channels, batch {batch_size}, '
          f'device {device}, {args.workers} loader workers, {threads} torch threads, {args.iters} timed iterations')
    print(f'corpus {args.corpus}: {dataset.num_eligible} eligible frames in {len(dataset.video_ids)} videos, '
          f'teacher {dataset.teacher} (d = {dataset.dim})')
    print(f'  data pipeline alone          {data_fps:10.1f} frames/s')
    print(f'  training, real pipeline      {pipeline_fps:10.1f} frames/s')
    print(f'  training, bare model step    {bare_fps:10.1f} frames/s')
    print(f'  ratio pipeline / bare        {pipeline_fps / bare_fps:10.3f}')
    print(f'  frame index                  {per_frame:10.2f} bytes/frame -> '
          f'{per_frame * 5e6 / 2 ** 20:.1f} MiB for 5 million frames')
    print(f'  target table (float32, d={dataset.dim:<3d})  {target_per_frame:7.1f} bytes/frame -> '
          f'{target_per_frame * 5e6 / 2 ** 20:.1f} MiB for 5 million frames')
    if tmp is not None:
        tmp.cleanup()


if __name__ == '__main__':
    main()
