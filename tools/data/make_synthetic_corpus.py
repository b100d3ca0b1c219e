"""Generate the tiny synthetic corpus (stick-figure athletes, three motion classes) used by tests and the quick
demo.

Example:
    python tools/data/make_synthetic_corpus.py --out data/synthetic --seed 0
"""
from __future__ import annotations

import argparse

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Write the tiny synthetic corpus (videos, tracks, pose, '
                        'actions, meta.json) into a folder.')
    parser.add_argument('--out', required=True, help='output corpus folder')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    parser.add_argument('--num-videos', type=int, default=9, help='number of videos (>= 5; default 9)')
    parser.add_argument('--num-frames', type=int, default=50, help='frames per video (default 50)')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from vpd_mm.testing import TinyCorpusSpec, make_tiny_corpus
    try:
        corpus = make_tiny_corpus(args.out, seed=args.seed,
                                  spec=TinyCorpusSpec(num_videos=args.num_videos, num_frames=args.num_frames))
    except ValueError as error:
        fail(f'{error}')
    actions = corpus.read_actions()
    print(f'wrote {len(corpus.video_ids())} videos and {len(actions)} actions to {args.out}')


if __name__ == '__main__':
    main()
