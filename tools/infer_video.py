"""Raw videos to action predictions: tracking -> crops -> flow -> student features -> recogniser / detector.

Writes into --out: ``corpus/`` (the videos as a corpus with tracks, crops, flow and the student's features),
``<video_id>.json`` (segments with label, score, top-k, times in frames and seconds; the detector's frame scores)
and ``<video_id>.mp4`` (the video with the athlete box, crop, flow and the label over time). Every step skips
the videos it already finished, so a killed run resumes; predictions made with other checkpoints are redone.

Segments: with --detector, its proposals; else the actions of --actions CSV (video,start,end,label[,split]: the
labels are kept as given_label, handy to measure accuracy); else the whole tracked span of each video.

Configs: each checkpoint's training config is read from beside it (mmengine's Runner dumps it into the work
dir); pass --student-config / --recognizer-config / --detector-config otherwise.

Example:
    python tools/infer_video.py my_videos/*.mp4 --student work_dirs/2d_vpd/best.pth \\
        --recognizer work_dirs/bigru/best_acc_top1_epoch_20.pth --out results/
"""
from __future__ import annotations

import argparse
import logging
import os.path as osp

from vpd_mm.utils.cli import InputError, ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Predict actions in raw videos: athlete tracking, crops, optical flow, VPD '
                        'student features, then a BiGRU recogniser and/or frame detector; one JSON and one '
                        'overlay video per video; resumable.')
    parser.add_argument('videos', nargs='+', metavar='VIDEO', help='video files, or one folder of videos')
    parser.add_argument('--student', required=True, metavar='CKPT', help='VPD student (distillation) checkpoint')
    parser.add_argument('--recognizer', metavar='CKPT', help='BiGRU recogniser checkpoint (configs/recognition)')
    parser.add_argument('--detector', metavar='CKPT', help='frame BiGRU detector checkpoint (configs/detection)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--student-config', metavar='CFG', help='default: the config beside the checkpoint')
    parser.add_argument('--recognizer-config', metavar='CFG', help='default: the config beside the checkpoint')
    parser.add_argument('--detector-config', metavar='CFG', help='default: the config beside the checkpoint')
    parser.add_argument('--actions', metavar='CSV', help='segments to classify: video,start,end,label[,split]')
    parser.add_argument('--seconds', action='store_true', help='plain CSV times are seconds (default frames)')
    parser.add_argument('--threshold', type=float, default=0.5, help='detector activation threshold (0.5)')
    parser.add_argument('--person-detector', choices=('mediapipe', 'torchvision'), default='mediapipe',
                        help='athlete detector (default mediapipe, offline)')
    parser.add_argument('--person-weights', metavar='FILE', help='torchvision person detector state dict')
    parser.add_argument('--flow', choices=('farneback', 'dis'), default='farneback',
                        help="optical flow method (use the student's training one; default farneback)")
    parser.add_argument('--no-overlay', action='store_true', help='skip the overlay videos')
    parser.add_argument('--device', help='torch device (default: cuda when available, else cpu)')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.recognizer is None and args.detector is None:
        fail('give --recognizer CKPT and/or --detector CKPT')
    if args.person_detector == 'torchvision' and not args.person_weights:
        fail('--person-detector torchvision needs --person-weights FILE (nothing is downloaded)')
    for path in [args.student, args.recognizer, args.detector, args.student_config, args.recognizer_config,
                 args.detector_config, args.actions]:
        if path is not None and not osp.isfile(path):
            raise InputError(path, 'file does not exist')
    logging.basicConfig(level=logging.WARNING, format='%(message)s')
    from vpd_mm.apis import infer_videos
    videos = args.videos[0] if len(args.videos) == 1 and osp.isdir(args.videos[0]) else args.videos
    result = infer_videos(videos, args.out, args.student, args.student_config, args.recognizer,
                          args.recognizer_config, args.detector, args.detector_config, actions_csv=args.actions,
                          seconds=args.seconds, person_detector=args.person_detector,
                          person_weights=args.person_weights, flow=args.flow, threshold=args.threshold,
                          overlay=not args.no_overlay, device=args.device)
    print(f"{len(result['predictions'])} of {len(result['videos'])} videos have predictions in {args.out} "
          '(<video>.json' + (', <video>.mp4)' if not args.no_overlay else ')'))
    if result['failed']:
        fail(f"{len(result['failed'])} step(s) failed, first: {result['failed'][0]}")


if __name__ == '__main__':
    main()
