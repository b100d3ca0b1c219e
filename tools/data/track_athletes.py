"""Detect and track the athlete in every video of a corpus: tracks/<video_id>.json ([frame, x, y, w, h] rows).

Person detector: MediaPipe Pose (default; offline, its weights ship in the mediapipe wheel; one person per frame)
or a torchvision detector from a state-dict file (``--detector torchvision --detector-weights FILE``; every
person). Association: supervision's ByteTrack. The athlete is the track the camera keeps large and centred
longest; tracks continuing it after a miss are joined and gaps up to ``--max-gap`` seconds interpolated (the rule
is documented in vpd_mm/stages/tracking.py). Videos that already have a track are skipped (``--overwrite``
re-tracks them), so a killed run resumes.

Example:
    python tools/data/track_athletes.py data/my_sport
    python tools/data/track_athletes.py data/my_sport --detector torchvision --detector-weights frcnn.pth
"""
from __future__ import annotations

import argparse
import logging

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Detect and track the athlete in every video of a corpus (tracks/).')
    parser.add_argument('corpus', help='corpus folder (meta.json, videos/), e.g. from prepare_videos.py')
    parser.add_argument('--videos', nargs='+', metavar='ID', help='only these video ids (default: all)')
    parser.add_argument('--detector', choices=('mediapipe', 'torchvision'), default='mediapipe',
                        help='person detector (default mediapipe)')
    parser.add_argument('--detector-weights', metavar='FILE', help='torchvision detection state dict')
    parser.add_argument('--detector-arch', help='torchvision builder name (default: recognised from the weights)')
    parser.add_argument('--score-thresh', type=float, default=0.3,
                        help='torchvision: keep person boxes scoring at least this (default 0.3)')
    parser.add_argument('--max-gap', type=float, default=1.0,
                        help='longest gap (seconds) bridged between tracks and interpolated (default 1)')
    parser.add_argument('--workers', type=int, default=1, help='processes (default 1)')
    parser.add_argument('--overwrite', action='store_true', help='re-track videos that have a track')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.detector == 'torchvision' and not args.detector_weights:
        fail('--detector torchvision needs --detector-weights FILE (nothing is downloaded)')
    if args.max_gap < 0 or args.workers < 1:
        fail(f'need --max-gap >= 0 and --workers >= 1, got {args.max_gap}, {args.workers}')
    logging.basicConfig(level=logging.WARNING, format='%(message)s')
    from vpd_mm.corpus import Corpus
    from vpd_mm.stages.runner import summary_line
    from vpd_mm.stages.tracking import track_athletes
    corpus = Corpus.open(args.corpus)
    options = dict(score_thresh=args.score_thresh, arch=args.detector_arch) if args.detector == 'torchvision' else {}
    result = track_athletes(corpus, video_ids=args.videos, detector=args.detector, weights=args.detector_weights,
                            detector_options=options, max_gap_seconds=args.max_gap, overwrite=args.overwrite,
                            workers=args.workers)
    print('tracking: ' + summary_line(result))
    if result['errors']:
        fail(f"{result['errors']} video(s) failed, first: {result['failed'][0]}")


if __name__ == '__main__':
    main()
