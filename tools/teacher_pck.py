"""The teacher's accuracy on a rendered corpus: PCK@0.2 against ``gt_pose/`` (misses counted as failures), a
left/right-swap-tolerant PCK and error, on sharp vs blurred and slow vs fast frames, by class and by joint speed.

Example:
    python tools/teacher_pck.py data/mocap_sports                     # prints the table, writes the JSON
    python tools/teacher_pck.py data/mocap_sports --split test --out test_pck.json
    python tools/teacher_pck.py data/mocap_sports --pose-dir student_pose   # any folder in the pose/ format
"""
from __future__ import annotations

import argparse

from vpd_mm.corpus import Corpus
from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Score pose files of a rendered corpus against its ground truth '
                        '(PCK@0.2 with misses as failures, swap-tolerant PCK and NE) on sharp/'
                        'blurred and slow/fast frames; print a table and write a JSON report.')
    parser.add_argument('corpus', help='corpus folder with gt_pose/ (tools/data/make_mocap_sports.py)')
    parser.add_argument('--pose-dir', default='pose', help='folder of the predictions inside the corpus '
                        '(default pose, the teacher)')
    parser.add_argument('--split', nargs='+', choices=['train', 'val', 'test'], help='only these splits')
    parser.add_argument('--actions-only', action='store_true', help='only the labelled action frames')
    parser.add_argument('--threshold', type=float, default=0.2, help='PCK threshold in torso lengths (0.2)')
    parser.add_argument('--out', help='JSON report path (default <corpus>/<pose-dir>_pck.json)')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    Corpus.open(args.corpus)  # a valid meta.json of this format version, or one error line
    if args.threshold <= 0:
        fail(f'--threshold must be > 0, got {args.threshold}')
    from vpd_mm.mocap_sports.pck import evaluate_corpus, format_report, write_report
    from vpd_mm.corpus import CorpusFormatError
    corpus = Corpus(args.corpus)
    try:
        report = evaluate_corpus(corpus, pose_dir=args.pose_dir, splits=args.split, threshold=args.threshold,
                                 actions_only=args.actions_only)
    except (CorpusFormatError, ValueError) as error:
        fail(f'{error}')
    out = args.out or corpus.path(f'{args.pose_dir.strip("/").replace("/", "_")}_pck.json')
    write_report(report, out)
    print(format_report(report))
    print(f'report: {out}')


if __name__ == '__main__':
    main()
