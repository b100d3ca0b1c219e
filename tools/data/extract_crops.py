"""Cut the 128x128 athlete crops (and the previous-frame crops, same window) of a corpus into ``crops/``.

Resumable: videos whose crops are complete are skipped. Frames past a video's end and boxes outside the frame
are skipped and counted; a missing, corrupt or truncated video is reported by name and the other videos go on.

Example:
    python tools/data/extract_crops.py data/fsjump6
    python tools/data/extract_crops.py data/fsjump6 --videos video_a video_b
"""
from __future__ import annotations

import argparse
import logging

from vpd_mm.corpus import Corpus
from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Extract square athlete crops (box united with the previous '
                        "frame's box, 10% padding per side, zero fill, resized) and the previous "
                        "frame's crop with the same window into <corpus>/crops/.")
    parser.add_argument('corpus', help='corpus folder (meta.json, videos/, tracks/)')
    parser.add_argument('--videos', nargs='+', metavar='ID', help='only these video ids (default: all tracked)')
    parser.add_argument('--size', type=int, default=128, help='crop side in pixels (default 128)')
    parser.add_argument('--pad', type=float, default=0.1, help='padding per side, fraction (default 0.1)')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    corpus = Corpus.open(args.corpus)  # a valid meta.json of this format version, or one error line
    corpus.require('tracks')
    if args.size < 8 or args.pad < 0:
        fail(f'need --size >= 8 and --pad >= 0, got {args.size}, {args.pad}')
    logging.basicConfig(level=logging.WARNING, format='%(levelname)s %(message)s')
    from vpd_mm.stages.crops import extract_crops
    counts = extract_crops(corpus, video_ids=args.videos, size=args.size, pad=args.pad)
    print(f"crops: {counts['written']} videos written ({counts['frames']} frames), {counts['skipped']} already "
          f"complete, {counts['errors']} failed; frames skipped: {counts['beyond_end']} past the video end, "
          f"{counts['outside']} box outside the frame")
    if counts['errors']:
        fail(f"{counts['errors']} video(s) failed, first: {counts['failed'][0]}")


if __name__ == '__main__':
    main()
