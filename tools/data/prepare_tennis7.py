"""Prepare the Tennis7 (tennis swings) corpus from the reference's label files.

--labels holds all.txt and val.ids.txt (the reference's action_dataset/tennis/) and optionally
tennis.video_meta.pkl; the point clips <match>_<start>_<end> come from --videos, that pickle or the
published pose folders front__<clip> / back__<clip>. Each clip gives two corpus videos, one per
player. Splits: test = the 4 held-out matches, val = val.ids.txt, train = the rest.

Example:
    python tools/data/prepare_tennis7.py --labels action_dataset/tennis --out data/tennis7 \\
        [--videos VIDEOS] [--tracks POSE_DIR]
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Prepare the Tennis7 (tennis swings) corpus from the reference's label files.")
    parser.add_argument(
        '--labels', required=True,
        help='folder with all.txt, val.ids.txt (and optionally tennis.video_meta.pkl)')
    parser.add_argument(
        '--videos',
        help='folder with the point clips <match>_<start>_<end>.mp4; read once and linked as '
             'CORPUS/videos/{front,back}__<clip>.mp4')
    parser.add_argument('--tracks', action='append', default=[], metavar='PATH',
                        help='published pose folders (<video>/boxes.json, coco_keypoints.json.gz) and/or mmaction2 '
                        'skeleton .pkl files: a folder or a file, repeatable')
    parser.add_argument('--out', required=True, help='corpus folder to write (re-runs resume)')
    parser.add_argument('--person', choices=('best', 'first'), default='best',
                        help='skeleton pickles: the highest-score person of each clip, or person 0 (default best)')
    parser.add_argument('--overwrite-tracks', action='store_true', help='re-import videos already imported')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from vpd_mm.datasets.converters.cli import run_prepare
    run_prepare('tennis7', args)


if __name__ == '__main__':
    main()
