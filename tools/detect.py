"""Few-shot temporal action detection: a k-fold ensemble of per-frame BiGRUs, proposals, AP at temporal IoU.

Examples:
    python tools/detect.py configs/detection/framebigru_vi_vpd_fsjump6.py --videos 5 --trial 0 --seed 0
    python tools/detect.py CONFIG --video-list data/fsjump6/annotations/train.localize.0.txt --videos 5
    python tools/detect.py CONFIG --folds 5                # all training videos

Writes ``<work-dir>/detection.json`` (AP per tIoU on the test videos, the activation threshold chosen on the
validation folds, the videos used) and a PNG of AP against tIoU. Finished folds are kept and skipped on rerun.
"""
from __future__ import annotations

import argparse
import os.path as osp

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = ToolParser(description='Few-shot temporal action detection with a k-fold ensemble of '
                        'per-frame BiGRUs; AP at temporal IoU 0.3-0.7 on the test videos, JSON and '
                        'a plot.')
    parser.add_argument('config', help='detection config, e.g. configs/detection/framebigru_pose2d_fsjump6.py')
    parser.add_argument('--folds', type=int, default=5, help='ensemble folds over the training videos (default 5)')
    parser.add_argument('--videos', type=int, help='train on this many videos (few-shot; the paper uses 5)')
    parser.add_argument('--trial', type=int, default=0, help='which seeded draw of --videos (default 0)')
    parser.add_argument('--video-list', help='published list of training videos (first --videos lines used)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the video draw, folds and training')
    parser.add_argument('--tiou', type=float, nargs='+', default=[0.3, 0.4, 0.5, 0.6, 0.7],
                        help='temporal IoU thresholds (default 0.3 0.4 0.5 0.6 0.7)')
    parser.add_argument('--thresholds', type=float, nargs='+',
                        help='activation thresholds to choose from on the validation folds (default: the '
                        "reference's grid, 0.1..0.9; tennis 0.05..0.5)")
    parser.add_argument('--max-gap', type=int, default=1, help='merge runs separated by at most this many frames')
    parser.add_argument('--min-length', type=int, default=5, help='drop runs shorter than this (frames)')
    parser.add_argument('--work-dir', help='output folder (default: work_dirs/detect/<config name>)')
    parser.add_argument('--out', help='result JSON (default: <work-dir>/detection.json)')
    parser.add_argument('--plot', help='PNG of AP against tIoU (default: the result JSON with .png)')
    parser.add_argument('--verbose', action='store_true', help='show the training logs of every fold')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs, e.g. train_cfg.max_epochs=50')
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error(f'--folds must be >= 2 (each fold validates on held-out videos), got {args.folds}')
    if args.videos is not None and args.videos < 2:
        parser.error(f'--videos must be >= 2, got {args.videos}')
    if any(not 0 < t <= 1 for t in args.tiou):
        parser.error('--tiou values must be in (0, 1]')
    return args


@tool_main
def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        fail(f'config file {args.config} does not exist')
    if args.video_list is not None and not osp.isfile(args.video_list):
        fail(f'--video-list {args.video_list} does not exist')
    from mmengine.config import Config
    from tqdm import tqdm

    from vpd_mm.corpus import CorpusFormatError
    from vpd_mm.protocols.detection import run_detection
    from vpd_mm.protocols.fewshot import write_json
    from vpd_mm.protocols.report import plot_detection

    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    name = osp.splitext(osp.basename(args.config))[0]
    work_dir = args.work_dir or osp.join('work_dirs', 'detect', name)
    out = args.out or osp.join(work_dir, 'detection.json')
    plot = args.plot or osp.splitext(out)[0] + '.png'
    try:
        doc = run_detection(cfg, work_dir, folds=args.folds, seed=args.seed, num_videos=args.videos,
                            trial=args.trial, video_list=args.video_list, tious=args.tiou,
                            thresholds=args.thresholds,
                            proposal_cfg=dict(max_gap=args.max_gap, min_length=args.min_length),
                            quiet=not args.verbose, progress=lambda folds: tqdm(folds, desc='folds', unit='fold'))
    except (CorpusFormatError, ValueError) as error:
        fail(f'{error}')
    doc['config'] = args.config
    write_json(out, doc)
    plot_detection([doc], plot)
    print(f'{doc["folds"]}-fold ensemble on {len(doc["train_videos"])} training videos, threshold '
          f'{doc["threshold"]} (chosen on the validation folds), {doc["num_proposals"]} proposals for '
          f'{doc["num_gt"]} actions in {len(doc["test_videos"])} test videos')
    print('AP: ' + ', '.join(f'tIoU {float(t):g}: {100 * v:.1f}' for t, v in doc['ap'].items()))
    print(f'wrote {out} and {plot}')
    return doc


if __name__ == '__main__':
    main()
