"""Export the corpus poses to mmaction2's PoseDataset annotation file (for the ST-GCN / MS-G3D baselines).

Example:
    python tools/data/export_pose_dataset.py data/synthetic --out data/synthetic/pose_dataset.pkl
"""
from __future__ import annotations

import argparse
import os.path as osp

from vpd_mm.corpus import Corpus
from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description="Export corpus poses to mmaction2's PoseDataset file.")
    parser.add_argument('corpus', help='corpus folder (meta.json, annotations/actions.json, pose/)')
    parser.add_argument('--out', help='output .pkl (default: <corpus>/pose_dataset.pkl)')
    parser.add_argument('--img-shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='video frame size (default: meta.json extra.video_size per video, else extra.height / '
                        'extra.width)')
    parser.add_argument('--window', choices=('action', 'sport'), default='action',
                        help="frames exported per action: the action's own (default) or the per-sport recognition "
                        'window (tennis +-0.5 s around contact, ...)')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    Corpus.open(args.corpus)  # a valid meta.json of this format version, or one error line
    from vpd_mm.corpus import CorpusFormatError
    from vpd_mm.datasets import write_pose_dataset
    out = args.out or osp.join(args.corpus, 'pose_dataset.pkl')
    try:
        data = write_pose_dataset(Corpus(args.corpus), out, tuple(args.img_shape) if args.img_shape else None,
                                  args.window)
    except (CorpusFormatError, ValueError) as error:
        fail(f'{error}')
    counts = ', '.join(f'{name} {len(ids)}' for name, ids in data['split'].items())
    print(f'wrote {len(data["annotations"])} actions ({counts}) to {out}')


if __name__ == '__main__':
    main()
