"""Command-line glue shared by ``tools/data/prepare_<sport>.py`` and ``tools/data/import_fewshot.py``: the tools
parse their arguments (so ``--help`` stays fast) and call these, which turn bad input into one-line
``SystemExit('error: ...')`` messages."""
from __future__ import annotations

import argparse
import logging

from ..corpus import Corpus, CorpusFormatError
from .common import LabelFileError
from .fewshot_lists import import_fewshot_lists
from .prepare import prepare_corpus

__all__ = ['run_prepare', 'run_import_fewshot']


def run_prepare(sport: str, args: argparse.Namespace) -> None:
    """Run :func:`prepare_corpus` from parsed arguments and print its summary."""
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    try:
        summary = prepare_corpus(sport, args.labels, args.out, videos_dir=args.videos, tracks=args.tracks,
                       val_fraction=getattr(args, 'val_fraction', 0.0), seed=getattr(args, 'seed', 0),
                       default_fps=getattr(args, 'default_fps', 25.0), person=args.person,
                       overwrite_tracks=args.overwrite_tracks)
    except (LabelFileError, CorpusFormatError, ValueError) as error:
        raise SystemExit(f'error: {error}') from None
    print('\n'.join(summary.lines()))


def run_import_fewshot(args: argparse.Namespace) -> None:
    """Run :func:`import_fewshot_lists` from parsed arguments and print one line per list."""
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    try:
        result = import_fewshot_lists(Corpus(args.corpus), args.lists if len(args.lists) > 1 else args.lists[0],
                                      ks=args.k, trials=args.trials, drop_val=args.drop_val)
    except (LabelFileError, CorpusFormatError, ValueError) as error:
        raise SystemExit(f'error: {error}') from None
    for (k, trial), (path, count, skips) in result.items():
        note = f' ({skips.total} ids skipped: {dict(skips.counts)})' if skips.total else ''
        print(f'k={k} trial={trial}: {count} training actions -> {path}{note}')
