"""Import published few-shot id lists (one action id per line) into CORPUS/annotations/fewshot/<k>_<trial>.txt.

Every id is checked against the corpus: training actions are kept; ids the converter deliberately left out
(annotations/excluded.txt: tennis serves, FineGym elements of other apparatus, ...) are skipped and counted; a val
or test id, or an id the corpus does not know, is an error naming the file, line and id (nothing is written).

Example:
    python tools/data/import_fewshot.py data/fsjump6 --lists action_dataset/fs --trials 0 1 2 3 4
"""
from __future__ import annotations

import argparse

from vpd_mm.corpus import Corpus
from vpd_mm.utils.cli import ToolParser, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(
        description='Import published few-shot id lists (train_<k>_<trial>.ids.txt) into a corpus, with checks.')
    parser.add_argument('corpus', help='prepared corpus folder (meta.json, annotations/actions.json)')
    parser.add_argument('--lists', nargs='+', required=True,
                        help='a folder of train_<k>_<trial>.ids.txt files, or list files')
    parser.add_argument('--k', type=int, nargs='+', help='only these k (default: all found)')
    parser.add_argument('--trials', type=int, nargs='+', help='only these trials (default: all found; the paper '
                        'averages 0 1 2 3 4)')
    parser.add_argument('--drop-val', action='store_true',
                        help='leave out ids of val actions (counted) instead of failing; for FX35 / Diving48 '
                        'corpora, whose val split is carved from the train split the lists were drawn from')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    Corpus.open(args.corpus)  # a valid meta.json of this format version, or one error line
    from vpd_mm.datasets.converters.cli import run_import_fewshot
    run_import_fewshot(args)


if __name__ == '__main__':
    main()
