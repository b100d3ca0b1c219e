"""Action retrieval by DTW (paper Table 3): precision@k of every action against all the others.

Examples:
    python tools/retrieve.py data/fsjump6 --kind features --name vi_vpd
    python tools/retrieve.py data/diving48 --kind teacher --name vipe --queries test --out results/ret.json

Each action's sequence (per-sport window, missing frames interpolated, at most ``max_fps``) has its original and
mirrored features concatenated per frame; every other action of the pool is ranked by symmetricP2 DTW
(normalised distance) and P@k is averaged over the queries. Actions without features are left out, counted and
listed in the JSON. Writes ``<corpus>/results/retrieval_<kind>_<name>.json`` unless ``--out``; an existing
output is kept (``--force`` recomputes).
"""
from __future__ import annotations

import argparse
import json
import os.path as osp

from vpd_mm.corpus import Corpus
from vpd_mm.utils.cli import ToolParser, fail, tool_main


SPLITS = ('train', 'val', 'test')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Action retrieval: rank every other action by DTW on the '
                        'concatenated original and mirrored features and report precision@k.')
    parser.add_argument('corpus', help='corpus folder (meta.json, annotations/actions.json, teacher/ or features/)')
    parser.add_argument('--kind', choices=['teacher', 'features'], default='features',
                        help='teacher/<name>/ or features/<name>/ (default: features)')
    parser.add_argument('--name', required=True, help='feature set name, e.g. vi_vpd, pose2d, vipe')
    parser.add_argument('--ks', nargs='+', type=int, default=[1, 10, 50], help='precision cut-offs (default 1 10 50)')
    parser.add_argument('--splits', nargs='+', choices=SPLITS, default=list(SPLITS),
                        help='splits whose actions form the pool (default: all, as the reference)')
    parser.add_argument('--queries', nargs='+', choices=SPLITS, default=None,
                        help='only actions of these splits are queries (default: every action of the pool; '
                        'the reference uses test for Diving48)')
    parser.add_argument('--window', choices=['sport', 'action'], default='sport',
                        help="sequence window: the sport's (default) or the action's own frames")
    parser.add_argument('--fallback', action='store_true',
                        help='pairs without a symmetricP2 path get their symmetric2 distance (reference: off, '
                        'they rank last)')
    parser.add_argument('--out', help='result JSON (default: <corpus>/results/retrieval_<kind>_<name>.json)')
    parser.add_argument('--force', action='store_true', help='recompute even if the output exists')
    args = parser.parse_args(argv)
    if min(args.ks) < 1:
        parser.error(f'--ks must be positive, got {args.ks}')
    return args


@tool_main
def main(argv: list[str] | None = None) -> dict | None:
    args = parse_args(argv)
    Corpus.open(args.corpus)  # a valid meta.json of this format version, or one error line
    out = args.out or osp.join(args.corpus, 'results', f'retrieval_{args.kind}_{args.name}.json')
    if osp.exists(out) and not args.force:
        print(f'{out} exists; skipping (use --force to recompute)')
        return None
    from vpd_mm.corpus import CorpusFormatError
    from vpd_mm.corpus.corpus import atomic_write_bytes
    from vpd_mm.protocols.retrieval import corpus_retrieval

    features = f'{args.kind}/{args.name}'
    try:
        doc = corpus_retrieval(args.corpus, features, splits=args.splits, query_splits=args.queries, ks=args.ks,
                               window=args.window, fallback=args.fallback, progress=True)
    except (CorpusFormatError, ValueError) as error:
        fail(f'{error}')
    data = (json.dumps(doc, indent=1) + '\n').encode()
    atomic_write_bytes(out, lambda f: f.write(data))
    if doc['num_skipped']:
        print(f'skipped {doc["num_skipped"]} action(s) without features (listed in the JSON)')
    precision = ', '.join(f'P@{k} = {100 * v:.1f}%' for k, v in doc['precision'].items())
    print(f'{features}: {doc["num_queries"]} queries over {doc["num_actions"]} actions: {precision}')
    print(f'wrote {out}')
    return doc


if __name__ == '__main__':
    main()
