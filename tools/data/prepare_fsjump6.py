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

from vpd_mm.utils.cli import tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from vpd_mm.datasets.converters.cli import prepare_parser
    return prepare_parser(
        "Prepare the FSJump6 (figure skating jumps) corpus from the reference's label files.",
        labels_help='folder with all.txt, segments.csv, val.ids.txt (and optionally fs.video_meta.pkl)',
        videos_help='folder with the routine clips <routine>.mp4; read once (fps, frames, size) and linked '
                    'into CORPUS/videos/').parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from vpd_mm.datasets.converters.cli import run_prepare
    run_prepare('fsjump6', args)


if __name__ == '__main__':
    main()
