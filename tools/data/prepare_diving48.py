"""Prepare the Diving48 (V2 labels) corpus from the published label files.

--labels holds Diving48_vocab.json, Diving48_V2_train.json, Diving48_V2_test.json and optionally
diving48.video_meta.pkl; --videos holds the clips <vid_name>.mp4. Splits: train / test from the V2
files; val is carved from train (--val-fraction, --seed), the reference validates on test.

Example:
    python tools/data/prepare_diving48.py --labels diving48/data --out data/diving48 \\
        [--videos VIDEOS] [--tracks POSE_DIR] [--val-fraction 0.1 --seed 0]
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Prepare the Diving48 (V2 labels) corpus from the published label files.')
    parser.add_argument(
        '--labels', required=True,
        help='folder with Diving48_vocab.json, Diving48_V2_train.json, Diving48_V2_test.json (and '
             'optionally diving48.video_meta.pkl)')
    parser.add_argument(
        '--videos',
        help='folder with the clips <vid_name>.mp4; read once and linked into CORPUS/videos/')
    parser.add_argument('--tracks', action='append', default=[], metavar='PATH',
                        help='published pose folders (<video>/boxes.json, coco_keypoints.json.gz) and/or mmaction2 '
                        'skeleton .pkl files: a folder or a file, repeatable')
    parser.add_argument('--out', required=True, help='corpus folder to write (re-runs resume)')
    parser.add_argument('--val-fraction', type=float, default=0.1,
                        help="fraction of each class's training actions carved into val (default 0.1; 0: none, "
                        'the reference has no val split)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the carved val split (default 0)')
    parser.add_argument('--person', choices=('best', 'first'), default='best',
                        help='skeleton pickles: the highest-score person of each clip, or person 0 (default best)')
    parser.add_argument('--overwrite-tracks', action='store_true', help='re-import videos already imported')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from vpd_mm.datasets.converters.cli import run_prepare
    run_prepare('diving48', args)


if __name__ == '__main__':
    main()
