"""Generate the embedded benchmark corpus ``mocap_sports``: athletes performing real DeepMimic motion capture,
rendered on the CPU with pybullet, with ground-truth tracks and 2D joints (``gt_pose/``).

Resumable: finished videos are skipped; a folder made with another seed or spec is refused.

Example:
    python tools/data/make_mocap_sports.py --out data/mocap_sports
    python tools/data/make_mocap_sports.py --out /tmp/ms_tiny --preset tiny --workers 1
"""
from __future__ import annotations

import argparse
import dataclasses
import os

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Render the mocap_sports corpus (routine videos of a humanoid '
                        'performing DeepMimic motion capture; 8 motion-defined action classes; '
                        'ground-truth tracks and joints; seeded train/val/test splits by instance).')
    parser.add_argument('--out', required=True, help='output corpus folder')
    parser.add_argument('--preset', default='default', help="size preset: 'default' (8 classes x 24 instances, "
                        "160x160) or 'tiny' (tests: 3 classes x 3 instances, 128x128)")
    parser.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    parser.add_argument('--instances-per-class', type=int, help='videos per class (overrides the preset)')
    parser.add_argument('--size', type=int, nargs=2, metavar=('W', 'H'), help='frame size (overrides the preset)')
    parser.add_argument('--classes', nargs='+', metavar='NAME', help='action classes (default: the preset\'s)')
    parser.add_argument('--fps', type=float, help='frame rate (overrides the preset; default 25)')
    parser.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1),
                        help='rendering processes (default: min(2, CPUs))')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from vpd_mm.mocap_sports.plan import ACTION_CLASSES, PRESETS
    from vpd_mm.stages.mocap_sports import make_mocap_sports
    if args.preset not in PRESETS:
        fail(f'unknown --preset {args.preset!r}; choose from {sorted(PRESETS)}')
    if args.workers < 1:
        fail(f'--workers must be >= 1, got {args.workers}')
    changes = {}
    if args.instances_per_class is not None:
        changes['instances_per_class'] = args.instances_per_class
    if args.size is not None:
        changes['width'], changes['height'] = args.size
    if args.classes is not None:
        unknown = sorted(set(args.classes) - set(ACTION_CLASSES))
        if unknown:
            fail(f'unknown --classes {unknown}; known: {sorted(ACTION_CLASSES)}')
        changes['classes'] = tuple(args.classes)
    if args.fps is not None:
        changes['fps'] = args.fps
    spec = dataclasses.replace(PRESETS[args.preset], **changes)
    try:
        spec.validate()
        spec.split_counts()
        corpus = make_mocap_sports(args.out, spec, seed=args.seed, workers=args.workers,
                                   progress=not args.no_progress, preset=args.preset, log=print)
    except ValueError as error:
        fail(f'{error}')
    except RuntimeError as error:
        fail(f'rendering failed: {error}')
    actions = corpus.read_actions()
    counts = {s: sum(a.split == s for a in actions) for s in ('train', 'val', 'test')}
    print(f'mocap_sports corpus in {args.out}: {len(corpus.video_ids())} videos, {len(actions)} actions '
          f'({counts}), classes {corpus.read_meta().classes}')


if __name__ == '__main__':
    main()
