"""Convert user-supplied Human3.6M or AMASS joint files into VIPE* 3D-pose files (<out>/<name>.npz).

Expected inputs (.npy, or .npz without pickle; folders are searched recursively):
  --format h36m   Human3.6M D3_Positions exported from the official .cdf files: (T, 96) or (T, 32, 3) in mm
                  (--units m for metres), or the common 17-joint subset (T, 17, 3); world frame (+z up);
                  50 fps unless --fps.
  --format amass  SMPL / SMPL-H / SMPL-X joint positions computed from AMASS parameters with a body model
                  (e.g. human_body_prior's BodyModel(...).Jtr): (T, J >= 22, 3) metres, SMPL joint order, +z up;
                  the frame rate comes from the file's mocap_framerate, else --fps.
An .npz array is chosen by --key, else 'joints', else 'positions', else the file's only array.

Output names are the input paths relative to the given folder, '/' and spaces replaced by '_' (e.g.
S1_Walking_1). With --val-match, splits.json lists names containing any of the given substrings as "val",
the others as "train".

Example:
    python tools/data/convert_3d_poses.py --format h36m h36m_npy/ --out data/h36m3d --val-match S9_ S11_
"""
from __future__ import annotations

import argparse
import glob
import json
import os.path as osp

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(
        description='Convert Human3.6M or AMASS joint files (.npy/.npz) into VIPE* 3D-pose files: '
        'joints (T, 17, 3) metres, COCO-17 order, +z up, and fps.')
    parser.add_argument('inputs', nargs='+', help='joint files or folders (searched recursively for .npy/.npz)')
    parser.add_argument('--format', required=True, choices=['h36m', 'amass'], help='input layout (see above)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--key', help='array name inside .npz inputs')
    parser.add_argument('--units', choices=['mm', 'm'], default='mm', help='Human3.6M units (default mm)')
    parser.add_argument('--fps', type=float, help='frame rate (overrides the file\'s)')
    parser.add_argument('--val-match', nargs='+', default=None,
                        help='write splits.json: names containing any of these substrings are "val"')
    parser.add_argument('--overwrite', action='store_true', help='rewrite existing outputs')
    return parser.parse_args(argv)


def _collect(inputs: list[str]) -> dict[str, str]:
    files: dict[str, str] = {}
    for item in inputs:
        if osp.isdir(item):
            found = sorted(glob.glob(osp.join(item, '**', '*.np[yz]'), recursive=True))
            pairs = [(osp.splitext(osp.relpath(f, item))[0], f) for f in found]
        elif osp.isfile(item):
            pairs = [(osp.splitext(osp.basename(item))[0], item)]
        else:
            fail(f'{item}: no such file or folder')
        for rel, path in pairs:
            name = rel.replace(osp.sep, '_').replace(' ', '_')
            if name in files:
                fail(f'{path} and {files[name]} would both be written as {name}.npz')
            files[name] = path
    if not files:
        fail(f'no .npy/.npz files in {inputs}')
    return files


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from tqdm import tqdm

    from vpd_mm.corpus.corpus import atomic_write_bytes
    from vpd_mm.teachers.pose3d import convert_joint_file, write_pose3d

    files = _collect(args.inputs)
    written = skipped = 0
    for name, path in tqdm(files.items(), desc='convert', unit='file'):
        target = osp.join(args.out, name + '.npz')
        if osp.exists(target) and not args.overwrite:
            skipped += 1
            continue
        try:
            joints, fps = convert_joint_file(path, args.format, key=args.key, units=args.units, fps=args.fps)
        except ValueError as error:
            fail(f'{error}')
        write_pose3d(target, joints, fps)
        written += 1
    if args.val_match:
        val = [n for n in files if any(m in n for m in args.val_match)]
        splits = dict(train=[n for n in files if n not in val], val=val)
        data = json.dumps(splits, indent=1).encode()
        atomic_write_bytes(osp.join(args.out, 'splits.json'), lambda f: f.write(data))
    print(f'{args.format}: {len(files)} files, written {written}, skipped {skipped} (exist) -> {args.out}')


if __name__ == '__main__':
    main()
