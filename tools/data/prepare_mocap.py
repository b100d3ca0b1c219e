"""VIPE* 3D-pose files from the DeepMimic motion capture shipped with pybullet (offline, seconds).

Forward kinematics of pybullet's DeepMimic humanoid turns every humanoid3d_*.txt clip into COCO-17 joints
(metres, +z up) resampled to --fps; writes <out>/<clip>.npz and <out>/splits.json with
"train" (the clips VIPE* trains on) and "heldout" (the clips kept unseen: the rendered benchmark's action classes
and the view-invariance test set), see vpd_mm.mocap.deepmimic.VIPE_TRAIN_CLIPS / VIPE_HELDOUT_CLIPS.

Example:
    python tools/data/prepare_mocap.py --out data/mocap3d
    python tools/train.py configs/vipe/vipe_mocap.py
"""
from __future__ import annotations

import argparse

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(
        description='Turn the DeepMimic humanoid clips inside pybullet_data into VIPE* 3D-pose files '
        '(COCO-17 joints by forward kinematics) plus splits.json (train / heldout clips).')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--fps', type=float, default=30.0,
                        help='resampling rate (default 30; 0 keeps each clip\'s keyframe rate)')
    parser.add_argument('--clips', nargs='+', help='clip names (default: all installed clips)')
    parser.add_argument('--overwrite', action='store_true', help='rewrite existing files')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.fps < 0:
        fail(f'--fps must be >= 0, got {args.fps}')
    from vpd_mm.teachers.mocap_pose3d import write_mocap_pose3d
    try:
        written = write_mocap_pose3d(args.out, fps=args.fps or None, clips=args.clips, overwrite=args.overwrite)
    except (ValueError, FileNotFoundError) as error:
        fail(f'{error}')
    new = {k: v for k, v in written.items() if v}
    print(f'mocap: {len(written)} clips, written {len(new)} ({sum(new.values())} frames), '
          f'skipped {len(written) - len(new)} (exist) -> {args.out}')


if __name__ == '__main__':
    main()
