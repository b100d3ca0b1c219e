"""Compute the optical flow previous crop -> current crop of a corpus into ``flow/`` (run extract_crops first).

OpenCV Farneback is the offline default; ``--method raft`` uses torchvision RAFT with a weights file you provide
(``--raft-weights PATH``, a torchvision raft_large/raft_small state dict), on the GPU when there is one.
Resumable: videos whose flow is complete are skipped.

Example:
    python tools/data/extract_flow.py data/fsjump6
    python tools/data/extract_flow.py data/fsjump6 --method raft --raft-weights raft_large_C_T_SKHT_V2.pth
"""
from __future__ import annotations

import argparse
import logging

from vpd_mm.corpus import Corpus
from vpd_mm.utils.cli import ToolParser, fail, tool_main


METHODS = ('farneback', 'dis', 'raft')  # vpd_mm.stages.flow.FLOW_METHODS (not imported: --help stays fast)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Compute optical flow from the previous-frame crop to the '
                        'current crop (pixels, clipped to +-20, quantised with an exact zero) into '
                        '<corpus>/flow/.')
    parser.add_argument('corpus', help='corpus folder with crops/ (tools/data/extract_crops.py)')
    parser.add_argument('--method', choices=METHODS, default='farneback',
                        help='flow method (default farneback; raft needs --raft-weights)')
    parser.add_argument('--raft-weights', metavar='PATH', help='torchvision RAFT state-dict file (for --method raft)')
    parser.add_argument('--device', help='torch device for RAFT (default: cuda when available, else cpu)')
    parser.add_argument('--videos', nargs='+', metavar='ID', help='only these video ids (default: all tracked)')
    parser.add_argument('--overwrite', action='store_true', help='recompute existing flow (to switch methods)')
    parser.add_argument('--workers', type=int, default=1, help='processes for farneback/dis (default 1)')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.method == 'raft' and not args.raft_weights:
        fail('--method raft needs --raft-weights PATH (a torchvision RAFT state dict); '
             'nothing is downloaded; use --method farneback or dis offline')
    if args.raft_weights and args.method != 'raft':
        fail(f'--raft-weights is only used with --method raft (got --method {args.method})')
    corpus = Corpus.open(args.corpus)  # a valid meta.json of this format version, or one error line
    corpus.require('crops')
    logging.basicConfig(level=logging.WARNING, format='%(levelname)s %(message)s')
    from vpd_mm.stages.flow import extract_flow
    try:
        counts = extract_flow(corpus, method=args.method, raft_weights=args.raft_weights,
                              video_ids=args.videos, device=args.device, overwrite=args.overwrite,
                              workers=args.workers)
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        fail(f'{error}')
    print(f"flow ({args.method}): {counts['written']} videos written ({counts['frames']} frames), "
          f"{counts['skipped']} already complete, {counts['errors']} failed")
    if counts['errors']:
        fail(f"{counts['errors']} video(s) failed, first: {counts['failed'][0]}")


if __name__ == '__main__':
    main()
