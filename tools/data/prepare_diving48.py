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

from vpd_mm.utils.cli import tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from vpd_mm.datasets.converters.cli import prepare_parser
    return prepare_parser(
        'Prepare the Diving48 (V2 labels) corpus from the published label files.',
        labels_help='folder with Diving48_vocab.json, Diving48_V2_train.json, Diving48_V2_test.json (and '
                    'optionally diving48.video_meta.pkl)',
        videos_help='folder with the clips <vid_name>.mp4; read once and linked into CORPUS/videos/', carve_val=True).parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from vpd_mm.datasets.converters.cli import run_prepare
    run_prepare('diving48', args)


if __name__ == '__main__':
    main()
