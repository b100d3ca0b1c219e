"""Teacher features for every video of a corpus: teacher/<name>/<video>.npz (feats (T, 2, d), scores (T,)).

Examples:
    python tools/extract_teacher.py data/fsjump6 --teacher pose2d                       # teacher/pose2d, d = 26
    python tools/extract_teacher.py data/fsjump6 --teacher vipe --checkpoint VIPE.pth   # teacher/vipe, d = 64
    python tools/extract_teacher.py data/diving48 --teacher vipe --checkpoint VIPE.pth --invert   # vipe_inv, 128
    python tools/extract_teacher.py data/fx35 --concat features/2d_vpd features/vi_vpd --name concat_vpd

Row 0 of feats is the original pose, row 1 the mirrored pose (for VIPE*, the mirrored 2D pose re-embedded).
Frames whose pose has a NaN joint get NaN features and a NaN score; they are counted in the summary.
Existing outputs are skipped, so an interrupted run resumes.
"""
from __future__ import annotations

import argparse
import functools
import sys

from vpd_mm.corpus import Corpus
from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(
        description='Write teacher features (2D joints or VIPE*, original + mirrored) for every pose file of a '
        'corpus, or concatenate two feature sets (Concat-VPD).')
    parser.add_argument('corpus', help='corpus folder (reads pose/, writes teacher/<name>/)')
    parser.add_argument('--teacher', choices=['pose2d', 'vipe'], help='which teacher to run on pose/')
    parser.add_argument('--checkpoint', help='VIPE* checkpoint (from tools/train.py configs/vipe/...)')
    parser.add_argument('--config', help="VIPE* training config (default: the checkpoint's data-only model "
                        "description, meta['model_spec']; the config text in a checkpoint is never executed)")
    parser.add_argument('--name', help='output name (default: the teacher, plus _inv with --invert)')
    parser.add_argument('--invert', action='store_true',
                        help='concatenate the features of the vertically inverted pose (the Diving48 teacher: '
                        'VIPE* d = 128)')
    parser.add_argument('--concat', nargs=2, metavar=('A', 'B'),
                        help='concatenate two feature sets (NAME = teacher/NAME, or features/NAME) instead of '
                        'running a teacher; score = min of the two')
    parser.add_argument('--device', help="torch device for VIPE* (default: 'cuda' when available, else 'cpu')")
    parser.add_argument('--batch-size', type=int, default=4096, help='poses per VIPE* forward pass')
    parser.add_argument('--score', default='pose', choices=['pose', 'mirror', 'temporal', 'mirror_temporal'],
                        help="the teacher's per-frame score: the pose estimator's own joint scores (pose, "
                        'default), its agreement with itself on the mirrored video (mirror; needs pose_mirror/ '
                        'from extract_pose_mediapipe.py --mirror), with the neighbouring frames (temporal), or '
                        'the smaller of the two')
    parser.add_argument('--overwrite', action='store_true', help='recompute existing outputs')
    args = parser.parse_args(argv)
    if (args.teacher is None) == (args.concat is None):
        parser.error('give exactly one of --teacher and --concat')
    if args.concat and not args.name:
        parser.error('--concat needs --name')
    if args.teacher == 'vipe' and not args.checkpoint:
        parser.error('--teacher vipe needs --checkpoint')
    return args


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    Corpus.open(args.corpus)  # a valid meta.json of this format version, or one error line
    from vpd_mm.compat import UnsafeCheckpointError
    from vpd_mm.corpus import CorpusFormatError
    from vpd_mm.stages.runner import summary_line
    from vpd_mm.stages.teacher_features import concat_on_corpus, teacher_on_corpus
    from vpd_mm.teachers.features import load_vipe_embedder, pose2d_teacher, vipe_teacher

    corpus = Corpus(args.corpus)
    try:
        if args.concat:
            stats = concat_on_corpus(corpus, args.concat[0], args.concat[1], args.name, overwrite=args.overwrite)
            name = args.name
        else:
            name = args.name or (args.teacher + ('_inv' if args.invert else ''))
            if args.teacher == 'pose2d':
                teacher = functools.partial(pose2d_teacher, with_inverted=args.invert)
            else:
                model = load_vipe_embedder(args.checkpoint, args.config, args.device)
                teacher = functools.partial(vipe_teacher, model, with_inverted=args.invert,
                                            batch_size=args.batch_size)
            stats = teacher_on_corpus(corpus, name, teacher, overwrite=args.overwrite, score=args.score)
    except (ValueError, CorpusFormatError, UnsafeCheckpointError) as error:
        fail(str(error))
    print(f'{name}: {summary_line(stats)}')
    if stats['errors']:
        fail(f"{stats['failed'][0]} ({stats['errors']} video(s) failed)")
    if stats.get('nan_frames'):
        print(f'{name}: {stats["nan_frames"]} frames had an invalid (NaN) pose and were written as NaN features '
              'with NaN scores', file=sys.stderr)
    if stats.get('missing'):
        print(f'{name}: {stats["missing"]} videos exist in only one of the two sources and were not written',
              file=sys.stderr)


if __name__ == '__main__':
    main()
