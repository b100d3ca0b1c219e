"""Any folder of videos as a corpus: read each video once, link it, and write meta.json (and actions from a CSV).

The CSV (optional) has one action per row, ``video,start,end,label[,split]`` (a header row is allowed): ``video``
is the file name with or without extension, ``start``/``end`` are frames (end exclusive) or seconds (``4.8s``,
or every plain number with ``--seconds``), ``split`` is train/val/test (``--default-split`` when absent). The
classes are the CSV's labels (sorted), or ``--classes FILE`` (one per line, in label order: pass the
``annotations/classes.txt`` of the corpus a recogniser was trained on). Re-runs read no video again (the probe
cache) and keep existing links.

With ``--track`` the athlete tracking stage (``tools/data/track_athletes.py``) runs afterwards.

Examples:
    python tools/data/prepare_videos.py --videos my_videos --out data/my_sport
    python tools/data/prepare_videos.py --videos my_videos --actions actions.csv --out data/my_sport --track
"""
from __future__ import annotations

import argparse
import logging

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Make a corpus from a folder of videos (videos/, meta.json, and actions, '
                        'classes and splits from an optional CSV); resumable.')
    parser.add_argument('--videos', required=True, nargs='+', metavar='PATH',
                        help='a folder of videos (.mp4 .mkv .avi .mov .webm), or video files')
    parser.add_argument('--out', required=True, help='corpus folder to write (re-runs resume)')
    parser.add_argument('--actions', metavar='CSV', help='actions: video,start,end,label[,split] per row')
    parser.add_argument('--classes', metavar='FILE', help='class names, one per line, in label order (default: '
                        'the sorted CSV labels)')
    parser.add_argument('--seconds', action='store_true', help='plain CSV times are seconds (default: frames; '
                        'a trailing s, as in 4.8s, always means seconds)')
    parser.add_argument('--default-split', choices=('train', 'val', 'test'), default='train',
                        help='split of CSV rows without one (default train)')
    parser.add_argument('--sport', help="meta.json sport name (default: the existing corpus's, else 'videos')")
    parser.add_argument('--max-fps', type=float, default=25.0,
                        help='downstream sequences are subsampled to at most this rate (default 25)')
    track = parser.add_argument_group('tracking (with --track)')
    track.add_argument('--track', action='store_true', help='then detect and track the athlete (tracks/)')
    track.add_argument('--detector', choices=('mediapipe', 'torchvision'), default='mediapipe',
                       help='person detector (default mediapipe: offline, weights in the wheel)')
    track.add_argument('--detector-weights', metavar='FILE', help='torchvision detector state dict')
    track.add_argument('--workers', type=int, default=1, help='tracking processes (default 1)')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.max_fps <= 0:
        fail(f'--max-fps must be positive, got {args.max_fps}')
    if args.detector == 'torchvision' and args.track and not args.detector_weights:
        fail('--detector torchvision needs --detector-weights FILE (nothing is downloaded)')
    logging.basicConfig(level=logging.WARNING, format='%(message)s')
    from vpd_mm.corpus import Corpus
    from vpd_mm.datasets.converters.videos import prepare_videos
    classes = Corpus(args.out).read_id_list(args.classes) if args.classes else None
    videos = args.videos[0] if len(args.videos) == 1 else args.videos
    summary = prepare_videos(videos, args.out, actions_csv=args.actions, classes=classes, sport=args.sport,
                             seconds=args.seconds, default_split=args.default_split, max_fps=args.max_fps)
    print('\n'.join(summary.lines()))
    if args.track:
        from vpd_mm.stages.runner import summary_line
        from vpd_mm.stages.tracking import track_athletes
        result = track_athletes(summary.corpus, detector=args.detector, weights=args.detector_weights,
                                workers=args.workers)
        print('tracking: ' + summary_line(result))
        if result['errors']:
            fail(f"{result['errors']} video(s) failed, first: {result['failed'][0]}")


if __name__ == '__main__':
    main()
