"""Top-1 accuracy of ``tools/infer_video.py`` predictions against the labels the actions CSV gave.

``tools/infer_video.py ... --actions CSV`` classifies each CSV segment and keeps the CSV's label as
``given_label``; this script counts the segments whose predicted ``label`` equals it (a segment without a
prediction, e.g. on an untracked stretch, counts as wrong), overall and per class.

Example (the embedded benchmark's test videos treated as raw videos, ``make demo``'s student and recogniser):
    python benchmarks/raw_video_accuracy.py results/
"""
from __future__ import annotations

import argparse
import glob
import json
import os.path as osp
from collections import Counter


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Accuracy of infer_video.py predictions against given labels.')
    parser.add_argument('predictions', help='the --out folder of tools/infer_video.py (<video_id>.json files)')
    parser.add_argument('--json', help='also write the figures to this JSON file')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    total, right = Counter(), Counter()
    videos = 0
    for path in sorted(glob.glob(osp.join(args.predictions, '*.json'))):
        with open(path) as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or 'segments' not in doc:
            continue
        videos += 1
        for seg in doc['segments']:
            if seg.get('given_label') is None:
                continue
            total[seg['given_label']] += 1
            right[seg['given_label']] += int(seg.get('label') == seg['given_label'])
    count = sum(total.values())
    if not count:
        raise SystemExit(f'error: {args.predictions}: no segment with a given_label (run infer_video.py with '
                         '--actions CSV)')
    accuracy = sum(right.values()) / count
    print(f'{count} segments in {videos} videos: top-1 accuracy {accuracy:.3f} ({sum(right.values())} right)')
    print('  per class: ' + ', '.join(f'{c} {right[c]}/{total[c]}' for c in sorted(total)))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(segments=count, videos=videos, accuracy=accuracy,
                           per_class={c: [right[c], total[c]] for c in sorted(total)}), f, indent=1)


if __name__ == '__main__':
    main()
