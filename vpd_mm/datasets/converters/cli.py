"""Command-line glue shared by ``tools/data/prepare_<sport>.py`` and ``tools/data/import_fewshot.py``: the tools
parse their arguments and call these, which turn bad input into one-line ``error: ...`` messages (:func:`vpd_mm.utils.cli.fail`, exit status 2)."""
from __future__ import annotations

import argparse
import logging

from ...corpus.corpus import Corpus, CorpusFormatError
from ...utils.cli import ToolParser, fail
from .common import LabelFileError
from .fewshot_lists import import_fewshot_lists
from .prepare import prepare_corpus

__all__ = ['prepare_parser', 'run_prepare', 'run_import_fewshot']


def prepare_parser(description: str, labels_help: str, videos_help: str, carve_val: bool = False,
                   default_fps: bool = False) -> argparse.ArgumentParser:
    """The command line of ``tools/data/prepare_<sport>.py``: the options every converter shares, plus the
    carved validation split (FX35, Diving48) and the assumed frame rate (FX35)."""
    parser = ToolParser(description=description)
    parser.add_argument('--labels', required=True, help=labels_help)
    parser.add_argument('--videos', help=videos_help)
    parser.add_argument('--tracks', action='append', default=[], metavar='PATH',
                        help='published pose folders (<video>/boxes.json, coco_keypoints.json.gz) and/or mmaction2 '
                        'skeleton .pkl files: a folder or a file, repeatable')
    parser.add_argument('--out', required=True, help='corpus folder to write (re-runs resume)')
    if carve_val:
        parser.add_argument('--val-fraction', type=float, default=0.1,
                            help="fraction of each class's training actions carved into val (default 0.1; 0: "
                            'none, the reference has no val split)')
        parser.add_argument('--seed', type=int, default=0, help='seed of the carved val split (default 0)')
    if default_fps:
        parser.add_argument('--default-fps', type=float, default=25.0,
                            help='fps assumed for event videos of unknown rate, without videos or '
                            'fx.video_meta.pkl (default 25)')
    parser.add_argument('--person', choices=('best', 'first'), default='best',
                        help='skeleton pickles: the highest-score person of each clip, or person 0 (default best)')
    parser.add_argument('--overwrite-tracks', action='store_true', help='re-import videos already imported')
    return parser


def run_prepare(sport: str, args: argparse.Namespace) -> None:
    """Run :func:`prepare_corpus` from parsed arguments and print its summary."""
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    try:
        summary = prepare_corpus(sport, args.labels, args.out, videos_dir=args.videos, tracks=args.tracks,
                       val_fraction=getattr(args, 'val_fraction', 0.0), seed=getattr(args, 'seed', 0),
                       default_fps=getattr(args, 'default_fps', 25.0), person=args.person,
                       overwrite_tracks=args.overwrite_tracks)
    except (LabelFileError, CorpusFormatError, ValueError) as error:
        fail(str(error))
    print('\n'.join(summary.lines()))


def run_import_fewshot(args: argparse.Namespace) -> None:
    """Run :func:`import_fewshot_lists` from parsed arguments and print one line per list."""
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    try:
        result = import_fewshot_lists(Corpus(args.corpus), args.lists if len(args.lists) > 1 else args.lists[0],
                                      ks=args.k, trials=args.trials, drop_val=args.drop_val)
    except (LabelFileError, CorpusFormatError, ValueError) as error:
        fail(str(error))
    for (k, trial), (path, count, skips) in result.items():
        note = f' ({skips.total} ids skipped: {dict(skips.counts)})' if skips.total else ''
        print(f'k={k} trial={trial}: {count} training actions -> {path}{note}')
