"""Teacher stage 1: mmpose top-down 2D pose of the tracked athlete in every frame -> <corpus>/pose/<video>.npz.

Examples:
    # HRNet-W32 COCO 256x192 (the default config, shipped in the mmpose wheel); download its weights once
    python tools/data/extract_pose.py data/fsjump6 \
        --checkpoint checkpoints/td-hm_hrnet-w32_8xb64-210e_coco-256x192-81c58e40_20220909.pth
    # any mmpose top-down config and checkpoint
    python tools/data/extract_pose.py data/fsjump6 --config my_topdown.py --checkpoint my.pth --batch-size 64

Runs on the GPU when there is one. Videos whose pose file exists are skipped, so an interrupted run resumes.
"""
from __future__ import annotations

import argparse
import sys

from vpd_mm.corpus import Corpus
from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(
        description='Run an mmpose top-down pose model on the tracked athlete box of every frame of a corpus and '
        'write pose/<video>.npz (COCO-17 keypoints in pixels, scores, boxes).')
    parser.add_argument('corpus', help='corpus folder (reads videos/ and tracks/, writes pose/)')
    parser.add_argument('--config', default=None,
                        help='mmpose top-down config file, or a path inside the mmpose wheel\'s configs/ '
                        '(default: body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py)')
    parser.add_argument('--checkpoint', required=True, help='local weights file of that model')
    parser.add_argument('--device', default=None, help="torch device (default: 'cuda:0' when available, else 'cpu')")
    parser.add_argument('--batch-size', type=int, default=32, help='(frame, box) pairs per forward pass')
    parser.add_argument('--overwrite', action='store_true', help='recompute existing pose files')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    Corpus.open(args.corpus)  # a valid meta.json of this format version, or one error line
    if args.batch_size < 1:
        fail(f'--batch-size must be >= 1, got {args.batch_size}')
    from vpd_mm.corpus import CorpusFormatError
    from vpd_mm.stages.pose_mmpose import build_pose_model, pose_on_corpus
    from vpd_mm.stages.runner import summary_line

    try:
        model = build_pose_model(args.config, args.checkpoint, args.device)
        stats = pose_on_corpus(Corpus(args.corpus), model, batch_size=args.batch_size, overwrite=args.overwrite)
    except (FileNotFoundError, ValueError, CorpusFormatError) as error:
        fail(f'{error}')
    print(f'pose: {summary_line(stats)}')
    if stats['no_detection']:
        print(f'pose: {stats["no_detection"]} frames had no detection (zero-area track box); their keypoints and '
              'scores are NaN', file=sys.stderr)
    if stats['errors']:
        fail(f"{stats['failed'][0]} ({stats['errors']} video(s) failed)")


if __name__ == '__main__':
    main()
