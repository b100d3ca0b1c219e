"""Draw what the pipeline saw and said for corpus videos: the athlete box (tracks/), the teacher pose (pose/), the
crop and its optical flow (crops/, flow/) and predictions over time (tools/infer_video.py JSON), as an mp4 per
video (every frame) and/or a PNG contact sheet (evenly spaced frames). Parts a corpus lacks are left out.

Examples:
    python tools/visualize.py data/fsjump6 --videos some_video --out vis/ --png
    python tools/visualize.py results/corpus --predictions results/ --out vis/ --mp4
"""
from __future__ import annotations

import argparse
import logging
import os.path as osp

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Visualise boxes, teacher pose, crop + flow and predictions of corpus '
                        'videos as mp4 and/or PNG.')
    parser.add_argument('corpus', help='corpus folder')
    parser.add_argument('--out', required=True, help='output folder (<video_id>.mp4 / <video_id>.png)')
    parser.add_argument('--videos', nargs='+', metavar='ID', help='video ids (default: every tracked video)')
    parser.add_argument('--predictions', metavar='DIR', help='folder of tools/infer_video.py <video_id>.json')
    parser.add_argument('--mp4', action='store_true', help='write <video_id>.mp4 (default when --png is absent)')
    parser.add_argument('--png', action='store_true', help='write a <video_id>.png contact sheet')
    parser.add_argument('--panels', type=int, default=8, help='frames on the contact sheet (default 8)')
    parser.add_argument('--height', type=int, default=360, help='panel height in pixels (default 360)')
    parser.add_argument('--no-pose', action='store_true', help='do not draw pose/')
    parser.add_argument('--overwrite', action='store_true', help='redraw videos whose outputs exist')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.panels < 1 or args.height < 32:
        fail(f'need --panels >= 1 and --height >= 32, got {args.panels}, {args.height}')
    mp4 = args.mp4 or not args.png
    logging.basicConfig(level=logging.WARNING, format='%(message)s')
    from vpd_mm.apis.visualization import load_layers, read_predictions, render_video
    from vpd_mm.corpus import Corpus
    from vpd_mm.stages.runner import for_each_video, summary_line
    from vpd_mm.stages.tracking import corpus_video_ids
    corpus = Corpus.open(args.corpus)
    ids = args.videos or corpus.video_ids() or corpus_video_ids(corpus)
    if not ids:
        fail(f'{args.corpus}: no videos to draw')

    def paths(video_id: str) -> tuple[str | None, str | None]:
        return (osp.join(args.out, video_id + '.mp4') if mp4 else None,
                osp.join(args.out, video_id + '.png') if args.png else None)

    def draw(video_id: str) -> dict:
        predictions = None
        if args.predictions:
            predictions = read_predictions(osp.join(args.predictions, video_id + '.json'))
        layers = load_layers(corpus, video_id, predictions, pose=not args.no_pose)
        mp4_path, png_path = paths(video_id)
        return render_video(corpus.video_path(video_id), layers, mp4=mp4_path, png=png_path, height=args.height,
                            png_panels=args.panels)

    result = for_each_video(ids, draw, done=lambda v: all(osp.isfile(p) for p in paths(v) if p),
                            overwrite=args.overwrite, desc='visualize', counters=('frames',))
    print(f'visualize: {summary_line(result)} -> {args.out}')
    if result['errors']:
        fail(f"{result['errors']} video(s) failed, first: {result['failed'][0]}")


if __name__ == '__main__':
    main()
