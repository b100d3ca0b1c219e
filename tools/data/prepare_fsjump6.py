"""Prepare the FSJump6 (figure skating jumps) corpus from the reference's label files.

--labels holds all.txt, segments.csv and val.ids.txt (the reference's action_dataset/fs/) and
optionally fs.video_meta.pkl; --videos holds the routine clips named
<video>_<order:02d>_<start:08d>_<end:08d>.mp4 (cut as the reference's recut_fs_video.py does).
Splits: test = the four 2018 competitions, val = val.ids.txt, train = the rest.

Example:
    python tools/data/prepare_fsjump6.py --labels action_dataset/fs --out data/fsjump6 \\
        [--videos VIDEOS] [--tracks POSE_DIR]
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Prepare the FSJump6 (figure skating jumps) corpus from the reference's label "
                    'files.')
    parser.add_argument(
        '--labels', required=True,
        help='folder with all.txt, segments.csv, val.ids.txt (and optionally fs.video_meta.pkl)')
    parser.add_argument(
        '--videos',
        help='folder with the routine clips <routine>.mp4; read once (fps, frames, size) and linked '
             'into CORPUS/videos/')
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
    run_prepare('fsjump6', args)


if __name__ == '__main__':
    main()
