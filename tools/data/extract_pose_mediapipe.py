"""Run the MediaPipe Pose teacher (BlazePose full, mediapipe 0.10.21, CPU) over a corpus: ``pose/<video>.npz``.

Keypoints are COCO-17 pixels mapped from BlazePose's 33 landmarks, scores its visibilities; a frame where it
finds nobody has NaN keypoints and score 0. Resumable: videos with a pose file are skipped.

Example:
    python tools/data/extract_pose_mediapipe.py data/mocap_sports
    python tools/data/extract_pose_mediapipe.py data/mocap_sports --static --overwrite
    python tools/data/extract_pose_mediapipe.py data/mocap_sports --mirror   # + pose_mirror/ for mirror scores
"""
from __future__ import annotations

import argparse
import os

from vpd_mm.corpus import Corpus
from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Estimate 2D poses with MediaPipe Pose on every video of a '
                        'corpus and write <corpus>/pose/<video>.npz (COCO-17; misses as NaN).')
    parser.add_argument('corpus', help='corpus folder (meta.json, videos/, tracks/)')
    parser.add_argument('--static', action='store_true', help='run the person detector on every frame '
                        '(static_image_mode) instead of tracking the person from frame to frame')
    parser.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1),
                        help='processes (default: min(2, CPUs))')
    parser.add_argument('--videos', nargs='+', metavar='ID', help='only these video ids (default: all tracked)')
    parser.add_argument('--overwrite', action='store_true', help='recompute existing pose files')
    parser.add_argument('--mirror', action='store_true',
                        help='also run on the mirrored video and write pose_mirror/ (mapped back to the original '
                        'image): the teacher scores of tools/extract_teacher.py --score mirror')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    Corpus.open(args.corpus)  # a valid meta.json of this format version, or one error line
    if args.workers < 1:
        fail(f'--workers must be >= 1, got {args.workers}')
    from vpd_mm.stages.pose_mediapipe import run_mediapipe
    from vpd_mm.corpus import CorpusFormatError
    try:
        stats = run_mediapipe(Corpus(args.corpus), static=args.static, workers=args.workers,
                              overwrite=args.overwrite, progress=not args.no_progress, video_ids=args.videos,
                              log=print, mirror=args.mirror)
    except (CorpusFormatError, ImportError) as error:
        fail(f'{error}')
    if not stats['written'] and not stats['errors']:
        print(f'pose: all {stats["skipped"]} videos already have pose files')


if __name__ == '__main__':
    main()
