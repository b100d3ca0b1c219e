"""Late fusion of test predictions (``tools/test.py ... --dump``): the paper's 2-stream and ensemble rows.

Examples:
    python tools/late_fusion.py rgb.json flow.json --out tsn_2stream.json
    python tools/late_fusion.py joint.json bone.json --weights 1 1 --doc msg3d_ensemble_fx35.json \
        --sport fx35 --name "MS-G3D (ensemble)"

Prints the top-1 / mean-class accuracy of every input and of the fusion (weighted mean of the softmax scores).
``--out`` writes the fused predictions in the ``--dump`` format; ``--doc`` a recognition result document
(``k = 'all'``) that ``tools/report.py`` puts in Table 1.
"""
from __future__ import annotations

import argparse
import json

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Fuse the test predictions of two or more models (e.g. RGB and '
                        'flow TSN, joint and bone MS-G3D) by a weighted mean of their scores.')
    parser.add_argument('predictions', nargs='+', help='prediction JSONs from tools/test.py --dump (same test set)')
    parser.add_argument('--weights', nargs='+', type=float, help='one weight per input (default: equal)')
    parser.add_argument('--out', help='write the fused predictions here (JSON, the --dump format)')
    parser.add_argument('--doc', help='write a recognition result document for tools/report.py here (JSON)')
    parser.add_argument('--sport', help='sport of the result document (with --doc), e.g. fx35')
    parser.add_argument('--name', help='row name of the result document (with --doc), e.g. "TSN (crop; 2-stream)"')
    args = parser.parse_args(argv)
    if len(args.predictions) < 2:
        parser.error('give at least two prediction files')
    if args.weights is not None and len(args.weights) != len(args.predictions):
        parser.error(f'--weights needs {len(args.predictions)} values, got {len(args.weights)}')
    if args.doc and not (args.sport and args.name):
        parser.error('--doc needs --sport and --name')
    for path in (args.out, args.doc):
        if path is not None and not path.endswith('.json'):
            parser.error(f'output files are JSON; {path} does not end with .json')
    return args


@tool_main
def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    from vpd_mm.corpus.corpus import atomic_write_bytes
    from vpd_mm.protocols.late_fusion import (accuracy, fuse_predictions, read_predictions, result_document,
                                               write_predictions)
    try:
        streams = [read_predictions(path) for path in args.predictions]
        scores, labels = fuse_predictions(streams, args.weights, args.predictions)
    except ValueError as error:
        fail(f'{error}')
    for path, (s, g) in zip(args.predictions, streams):
        m = accuracy(s, g)
        print(f'{path}: top-1 {100 * m["acc/top1"]:.1f} %, mean-class {100 * m["acc/mean1"]:.1f} %')
    metrics = accuracy(scores, labels)
    weights = args.weights or [1.0] * len(streams)
    print(f'fused ({len(labels)} samples, weights {weights}): top-1 {100 * metrics["acc/top1"]:.1f} %, '
          f'mean-class {100 * metrics["acc/mean1"]:.1f} %')
    if args.out:
        write_predictions(args.out, scores, labels)
        print(f'wrote {args.out}')
    if args.doc:
        doc = json.dumps(result_document(metrics, args.sport, args.name, args.predictions, weights), indent=1)
        atomic_write_bytes(args.doc, lambda f: f.write(doc.encode()))
        print(f'wrote {args.doc}')
    return metrics


if __name__ == '__main__':
    main()
