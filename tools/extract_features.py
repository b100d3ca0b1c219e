"""Student features: F of a trained VPD student over every frame of a corpus, original and mirrored.

Writes ``<corpus>/features/<NAME>/<video_id>.npz`` in the teacher's format (frames (T,), feats (T, 2, d),
scores (T,) = the teacher's score or NaN). Videos already written are skipped, so a killed run resumes.

Example:
    python tools/extract_features.py configs/vpd/vi_vpd_fx35.py work_dirs/vi_vpd_fx35/best_val_loss_ma5_epoch_412.pth \
        --corpus data/fx35 --name vi_vpd
"""
from __future__ import annotations

import argparse
import os.path as osp

from vpd_mm.corpus import Corpus
from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Extract VPD student features (original + mirrored) for every '
                        'frame with a crop into <corpus>/features/<name>/.')
    parser.add_argument('config', help='the distillation config the checkpoint was trained with')
    parser.add_argument('checkpoint', help='the checkpoint, e.g. work_dirs/<config>/best_val_loss_ma5_epoch_N.pth')
    parser.add_argument('--corpus', required=True, help='corpus folder (with crops/ and flow/)')
    parser.add_argument('--name', required=True, help='feature name, e.g. vi_vpd or 2d_vpd')
    parser.add_argument('--videos', nargs='+', help='only these video ids (default: every video with crops)')
    parser.add_argument('--frames', choices=['all', 'actions'], default='all',
                        help="'all' (default): every frame with a crop; 'actions': only the frames inside the "
                        "actions' recognition windows (what recognition and retrieval read; detection needs all)")
    parser.add_argument('--batch-size', type=int, default=250, help='frames per forward pass (default 250)')
    parser.add_argument('--workers', type=int, default=0, help='dataloader workers decoding crops (default 0)')
    parser.add_argument('--device', help='torch device (default: cuda when available, else cpu)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='override config settings, key=value pairs (as tools/train.py)')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    for path, what in ((args.config, 'config file'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            fail(f'{what} {path} does not exist')
    Corpus.open(args.corpus).require('crops')  # a valid corpus with crops, or one error line
    if args.batch_size < 1:
        fail(f'--batch-size must be positive, got {args.batch_size}')
    from mmengine.config import Config, DictAction

    from vpd_mm.compat import UnsafeCheckpointError
    from vpd_mm.corpus import CorpusFormatError
    from vpd_mm.stages import StudentExtractor
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        parsed = argparse.Namespace()
        DictAction(option_strings=[], dest='options')(None, parsed, args.cfg_options)
        cfg.merge_from_dict(parsed.options)
    try:
        extractor = StudentExtractor(cfg, args.checkpoint, device=args.device, batch_size=args.batch_size,
                                     num_workers=args.workers)
        counts = extractor.run(args.corpus, args.name, video_ids=args.videos, frames=args.frames)
    except (ValueError, KeyError, CorpusFormatError, RuntimeError, UnsafeCheckpointError) as error:
        fail(str(error))
    print(f'features/{args.name}: wrote {counts["written"]} videos ({counts["frames"]} frames, d = '
          f'{extractor.dim}, original + mirrored), skipped {counts["skipped"]} complete, {counts["errors"]} failed')
    if counts['errors']:
        fail('; '.join(counts['failed']))


if __name__ == '__main__':
    main()
