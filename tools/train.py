"""Train a model from a config (mmaction2's ``tools/train.py`` command line, with vpd_mm loaded).

Examples:
    python tools/train.py configs/vpd/vi_vpd_fx35.py --work-dir work_dirs/vi_vpd_fx35
    python tools/train.py CONFIG --resume                 # continue from the last checkpoint in the work dir
    bash tools/dist_train.sh CONFIG 2 --cfg-options env_cfg.dist_cfg.backend=gloo
    python tools/train.py CONFIG --cfg-options load_from=PRETRAINED.pth --partial-load   # fine-tuning

A checkpoint loaded by ``load_from`` or ``--resume`` must fit the model exactly (no missing, unexpected or
mis-shaped weights); otherwise the tool stops with ``error: <checkpoint>: ...`` (exit status 2) before training.
``--partial-load`` (or ``load_from_partial=True`` in the config) loads what fits, as mmengine does by default,
and only logs the rest: for fine-tuning from another model's weights.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = ToolParser(description='Train a vpd_mm / mmaction2 model from a config.')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models (default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from the given checkpoint, or, without a value, from the latest checkpoint '
                        'in the work dir')
    parser.add_argument('--partial-load', action='store_true',
                        help='load_from: load the weights that fit the model and only log the others, for '
                        'fine-tuning (default: a checkpoint with missing, unexpected or mis-shaped weights is an '
                        'error)')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision training')
    parser.add_argument('--no-validate', action='store_true', help='do not evaluate checkpoints during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate with the total batch size (auto_scale_lr in the config)')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--diff-rank-seed', action='store_true', help='a different seed on each rank')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic options for the CUDNN backend')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs, e.g. train_cfg.max_epochs=3')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args: argparse.Namespace):
    """Apply the command-line options to the config, as mmaction2's train.py does."""
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper not in ('OptimWrapper', 'AmpOptimWrapper'):
            fail(f'--amp needs optim_wrapper.type OptimWrapper or AmpOptimWrapper, the config has {optim_wrapper}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume is not None and args.resume != 'auto':  # without a value: resolved below
        if not osp.isfile(args.resume):
            fail(f'--resume checkpoint {args.resume} does not exist')
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            fail('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    randomness = dict(seed=args.seed, diff_rank_seed=args.diff_rank_seed, deterministic=args.deterministic)
    if cfg.get('randomness', None) is None:
        cfg.randomness = randomness
    elif args.seed is not None or args.deterministic or args.diff_rank_seed:
        cfg.randomness.update({k: v for k, v in randomness.items() if v})
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.resume == 'auto':  # named here, not by mmengine: a killed run can leave last_checkpoint empty
        from vpd_mm.engine import latest_checkpoint
        cfg.load_from = latest_checkpoint(cfg.work_dir)
        cfg.resume = cfg.load_from is not None  # nothing saved yet: start from the beginning
    partial = args.partial_load or cfg.get('load_from_partial', False)
    if partial and cfg.get('resume', False):
        fail('--partial-load (load_from_partial) is for load_from (fine-tuning), not for --resume')
    if not partial:
        cfg.custom_hooks = [*cfg.get('custom_hooks', []),
                            dict(type='mmaction.StrictCheckpointHook', filename=cfg.get('load_from'),
                                 hint='--partial-load loads only the weights that fit (fine-tuning)')]
    return cfg


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        fail(f'config file {args.config} does not exist')
    from mmengine.config import Config
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from vpd_mm.compat import UnsafeCheckpointError
    from vpd_mm.engine import CheckpointMismatchError
    from vpd_mm.utils.distributed import destroy_process_group

    cfg = merge_args(Config.fromfile(args.config), args)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    try:
        runner.train()
    except (CheckpointMismatchError, UnsafeCheckpointError) as error:
        fail(str(error))
    finally:
        del runner  # its DDP wrapper holds the process group: release it while the interpreter is whole
        destroy_process_group()


if __name__ == '__main__':
    main()
