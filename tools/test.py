"""Test a checkpoint with a config (mmaction2's ``tools/test.py`` command line, with vpd_mm loaded).

Example:
    python tools/test.py configs/baselines/stgcn_coco2d_synthetic.py work_dirs/x/epoch_3.pth

The checkpoint must fit the model exactly (no missing, unexpected or mis-shaped weights); otherwise the tool stops
with ``error: <checkpoint>: ...`` (exit status 2) before testing. ``--partial-load`` (or ``load_from_partial=True``
in the config) loads what fits, as mmengine does by default, and only logs the rest.

``--show-dir DIR`` draws test samples on their corpus videos (vpd_mm ``VPDVisualizationHook``, put into
``default_hooks.visualization`` as mmaction2's ``tools/test.py`` does with its ``VisualizationHook``): for the
recognizers a PNG contact sheet of the action's frames with the ground-truth and the predicted class and score, for
the detectors the window's frames with per-frame ground truth and prediction as strips over time; ``DIR/index.json``
lists what was drawn. ``--interval N`` draws every N-th sample; at most
``default_hooks.visualization.max_samples`` (20; set it with ``--cfg-options``) are drawn. ``--show`` also shows them
(a display is needed).
"""
from __future__ import annotations

import argparse
import os
import os.path as osp

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = ToolParser(description='Test (and evaluate) a vpd_mm / mmaction2 checkpoint.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save the evaluation metrics')
    parser.add_argument('--dump', type=str,
                        help='also write the predictions to this .json file (mmengine DumpResults writes pickle; '
                        'vpd_mm writes JSON only)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs')
    parser.add_argument('--partial-load', action='store_true',
                        help='load the weights that fit the model and only log the others (default: a checkpoint '
                        'with missing, unexpected or mis-shaped weights is an error)')
    parser.add_argument('--show-dir', metavar='DIR',
                        help='draw test samples on their corpus videos (PNG contact sheets with the ground truth '
                        'and the prediction, DIR/index.json) into DIR')
    parser.add_argument('--show', action='store_true', help='show the drawn samples in a window (needs a display)')
    parser.add_argument('--interval', type=int, default=1,
                        help='with --show / --show-dir: draw every INTERVAL-th test sample (default 1)')
    parser.add_argument('--wait-time', type=float, default=2,
                        help='with --show: seconds each drawn sample is shown (default 2)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args: argparse.Namespace) -> None:
    """Turn on the visualization hook for ``--show`` / ``--show-dir`` (mmaction2's ``merge_args``).

    A ``default_hooks.visualization`` of the config keeps its type (e.g. mmaction2's ``VisualizationHook`` in a
    frame-based config); without one, vpd_mm's ``VPDVisualizationHook`` is used.
    """
    if not (args.show or args.show_dir is not None):
        return
    if cfg.get('default_hooks') is None:
        cfg.default_hooks = {}
    visualization = cfg.default_hooks.get('visualization') or {}
    visualization.setdefault('type', 'mmaction.VPDVisualizationHook')
    visualization.update(enable=True, show=args.show, wait_time=args.wait_time, out_dir=args.show_dir,
                         interval=args.interval)
    cfg.default_hooks.visualization = visualization


@tool_main
def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    for path, what in ((args.config, 'config file'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            fail(f'{what} {path} does not exist')
    if args.dump is not None and not args.dump.endswith('.json'):
        fail(f'--dump must name a .json file, got {args.dump}')
    if args.interval < 1:
        fail(f'--interval must be at least 1, got {args.interval}')
    if args.show_dir is not None and osp.exists(args.show_dir) and not osp.isdir(args.show_dir):
        fail(f'--show-dir {args.show_dir} exists and is not a folder')
    from mmengine.config import Config
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from vpd_mm.compat import UnsafeCheckpointError
    from vpd_mm.engine import CheckpointMismatchError
    from vpd_mm.utils.distributed import destroy_process_group

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    merge_args(cfg, args)
    if args.dump is not None:
        evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
        cfg.test_evaluator = [*evaluators, dict(type='DumpPredictionsJSON', out_file=args.dump)]
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if not (args.partial_load or cfg.get('load_from_partial', False)):
        cfg.custom_hooks = [*cfg.get('custom_hooks', []),
                            dict(type='mmaction.StrictCheckpointHook', filename=args.checkpoint,
                                 hint='--partial-load loads only the weights that fit')]
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    try:
        return runner.test()
    except (CheckpointMismatchError, UnsafeCheckpointError) as error:
        fail(str(error))
    finally:
        del runner  # its DDP wrapper holds the process group: release it while the interpreter is whole
        destroy_process_group()


if __name__ == '__main__':
    main()
