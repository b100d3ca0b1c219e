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

from vpd_mm.utils.cli import tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from vpd_mm.datasets.converters.cli import prepare_parser
    return prepare_parser(
        "Prepare the Tennis7 (tennis swings) corpus from the reference's label files.",
        labels_help='folder with all.txt, val.ids.txt (and optionally tennis.video_meta.pkl)',
        videos_help='folder with the point clips <match>_<start>_<end>.mp4; read once and linked as '
                    'CORPUS/videos/{front,back}__<clip>.mp4').parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from vpd_mm.datasets.converters.cli import run_prepare
    run_prepare('tennis7', args)


if __name__ == '__main__':
    main()
