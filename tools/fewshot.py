"""The few-shot recognition protocol: train on k examples per class, test on the full test split, several trials.

Examples:
    python tools/fewshot.py configs/recognition/bigru_vi_vpd_fx35.py --k 4 8 16 32 64 --trials 5 --seed 0
    python tools/fewshot.py CONFIG --k 4 16 all --method dtw --fewshot-dir data/fsjump6/annotations/fewshot
    python tools/fewshot.py CONFIG --k 4 8 --compare work_dirs/other/fewshot_bigru.json   # one plot, both

Writes ``<work-dir>/fewshot_<method>.json`` (mean and std of the top-1 accuracy per k) and a PNG of accuracy
against k (the paper's Figure 3) with every result document given to ``--compare``. Finished (k, trial) runs are
kept under ``<work-dir>/results/`` and skipped when the command is run again.
"""
from __future__ import annotations

import argparse
import os.path as osp

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def _k_value(text: str) -> int | str:
    if text == 'all':
        return 'all'
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'k must be a positive integer or "all", got {text!r}') from None
    if value < 1:
        raise argparse.ArgumentTypeError(f'k must be a positive integer or "all", got {value}')
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = ToolParser(description='Few-shot action recognition: k training examples per class '
                        '(seeded draws or published id lists), BiGRU or DTW nearest neighbours, '
                        'mean and std of top-1 accuracy over trials, JSON and a plot.')
    parser.add_argument('config', help='recognition config, e.g. configs/recognition/bigru_pose2d_fsjump6.py')
    parser.add_argument('--k', nargs='+', type=_k_value, default=[4, 8, 16, 32, 64],
                        help='examples per class; "all" trains on the whole training split (default 4 8 16 32 64)')
    parser.add_argument('--trials', type=int, default=5, help='trials per k (default 5, as in the paper)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the draws and of the training runs')
    parser.add_argument('--method', choices=['bigru', 'dtw'], default='bigru',
                        help='bigru: train the config with the mmengine Runner; dtw: DTW nearest neighbours')
    parser.add_argument('--fewshot-dir', help='read published id lists <dir>/<k>_<trial>.txt (or the '
                        "reference's train_<k>_<trial>.ids.txt) instead of drawing them")
    parser.add_argument('--work-dir', help='output folder (default: work_dirs/fewshot/<config name>)')
    parser.add_argument('--out', help='result JSON (default: <work-dir>/fewshot_<method>.json)')
    parser.add_argument('--plot', help='PNG of accuracy against k (default: the result JSON with .png)')
    parser.add_argument('--compare', nargs='*', default=[], help='other result JSONs drawn in the same plot')
    parser.add_argument('--workers', type=int, default=1,
                        help='BiGRU runs trained at once in worker processes (default 1; the cores are shared)')
    parser.add_argument('--verbose', action='store_true', help='show the training logs of every run')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs, e.g. train_cfg.max_epochs=100')
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error(f'--trials must be >= 1, got {args.trials}')
    return args


@tool_main
def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        fail(f'config file {args.config} does not exist')
    if args.fewshot_dir is not None and not osp.isdir(args.fewshot_dir):
        fail(f'--fewshot-dir {args.fewshot_dir} is not a folder')
    from mmengine.config import Config
    from tqdm import tqdm

    from vpd_mm.corpus import CorpusFormatError
    from vpd_mm.protocols.fewshot import run_fewshot, write_json
    from vpd_mm.protocols.report import load_results, plot_fewshot

    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    name = osp.splitext(osp.basename(args.config))[0]
    work_dir = args.work_dir or osp.join('work_dirs', 'fewshot', name)
    out = args.out or osp.join(work_dir, f'fewshot_{args.method}.json')
    plot = args.plot or osp.splitext(out)[0] + '.png'
    try:
        others = load_results(args.compare)
        doc = run_fewshot(cfg, args.k, args.trials, args.seed, work_dir, method=args.method,
                          fewshot_dir=args.fewshot_dir, quiet=not args.verbose, workers=args.workers,
                          progress=lambda plan: tqdm(plan, desc=f'few-shot {args.method}', unit='run'))
    except (CorpusFormatError, ValueError) as error:
        fail(f'{error}')
    doc['config'] = args.config
    write_json(out, doc)
    plot_fewshot([doc, *others], plot)
    for k, entry in doc['results'].items():
        print(f'k={k}: top-1 {100 * entry["mean"]:.1f} ± {100 * entry["std"]:.1f} % over {len(entry["accs"])} '
              f'trial(s), {entry["num_train"][0]} training actions in trial 0')
    skipped = sum(r.get('test_skipped', 0) for r in doc['runs'][:1])
    if skipped:
        print(f'note: {skipped} test actions without features were left out of the accuracy (see the log)')
    print(f'wrote {out} and {plot}')
    return doc


if __name__ == '__main__':
    main()
