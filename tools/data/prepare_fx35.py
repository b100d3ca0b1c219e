"""Prepare the FX35 (FineGym floor exercise, 35 classes) corpus from the FineGym v1.1 label files.

--labels holds finegym_annotation_info_v1.1.json, gym99_train_element_v1.1.txt, gym99_val_element.txt,
gym99_categories.txt (or gym99_categories_abrv.txt) and optionally fx.video_meta.pkl; --videos holds
the event clips <youtube_id>_E_<s>_<e>.mp4. Splits: train / test = the Gym99 train / val element
lists; val is carved from train (--val-fraction, --seed), the reference validates on test.

Example:
    python tools/data/prepare_fx35.py --labels finegym/data --out data/fx35 \\
        [--videos VIDEOS] [--tracks POSE_DIR] [--val-fraction 0.1 --seed 0]
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Prepare the FX35 (FineGym floor exercise, 35 classes) corpus from the FineGym '
                    'v1.1 label files.')
    parser.add_argument(
        '--labels', required=True,
        help='folder with finegym_annotation_info_v1.1.json, gym99_train_element_v1.1.txt, '
             'gym99_val_element.txt, gym99_categories.txt (and optionally fx.video_meta.pkl)')
    parser.add_argument(
        '--videos',
        help='folder with the event clips <youtube_id>_E_<s>_<e>.mp4; read once (their fps sets the '
             'element frames) and linked into CORPUS/videos/')
    parser.add_argument('--tracks', action='append', default=[], metavar='PATH',
                        help='published pose folders (<video>/boxes.json, coco_keypoints.json.gz) and/or mmaction2 '
                        'skeleton .pkl files: a folder or a file, repeatable')
    parser.add_argument('--out', required=True, help='corpus folder to write (re-runs resume)')
    parser.add_argument('--val-fraction', type=float, default=0.1,
                        help="fraction of each class's training actions carved into val (default 0.1; 0: none, "
                        'the reference has no val split)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the carved val split (default 0)')
    parser.add_argument('--default-fps', type=float, default=25.0,
                        help='fps assumed for event videos of unknown rate, without videos or fx.video_meta.pkl '
                        '(default 25)')
    parser.add_argument('--person', choices=('best', 'first'), default='best',
                        help='skeleton pickles: the highest-score person of each clip, or person 0 (default best)')
    parser.add_argument('--overwrite-tracks', action='store_true', help='re-import videos already imported')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from vpd_mm.datasets.converters.cli import run_prepare
    run_prepare('fx35', args)


if __name__ == '__main__':
    main()
