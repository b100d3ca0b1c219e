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

from vpd_mm.utils.cli import tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from vpd_mm.datasets.converters.cli import prepare_parser
    return prepare_parser(
        'Prepare the FX35 (FineGym floor exercise, 35 classes) corpus from the FineGym v1.1 label files.',
        labels_help='folder with finegym_annotation_info_v1.1.json, gym99_train_element_v1.1.txt, '
                    'gym99_val_element.txt, gym99_categories.txt (and optionally fx.video_meta.pkl)',
        videos_help='folder with the event clips <youtube_id>_E_<s>_<e>.mp4; read once (their fps sets the '
                    'element frames) and linked into CORPUS/videos/', carve_val=True, default_fps=True).parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from vpd_mm.datasets.converters.cli import run_prepare
    run_prepare('fx35', args)


if __name__ == '__main__':
    main()
