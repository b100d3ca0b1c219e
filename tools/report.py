"""Render result JSONs (tools/fewshot.py, tools/retrieve.py, tools/detect.py) as the paper's tables and figures.

Examples:
    python tools/report.py work_dirs/fewshot/*/fewshot_bigru.json work_dirs/detect/*/detection.json
    python tools/report.py results/*.json --out report.md --fig-dir figures/

Prints Markdown (Table 1: accuracy with all training data; few-shot accuracy per k; Table 3: retrieval
precision@k; Table 4: detection AP at temporal IoU) and saves the figures as PNG: ``fewshot.png`` (accuracy
against k, the paper's Figure 3) and ``detection.png`` (AP against temporal IoU), when the results contain them.
"""
from __future__ import annotations

import argparse
import os.path as osp

from vpd_mm.utils.cli import ToolParser, fail, tool_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ToolParser(description='Render vpd_mm result JSONs as Markdown tables in the paper\'s '
                        'layout (Tables 1, 3, 4) and save the figures as PNG.')
    parser.add_argument('results', nargs='+', help='result JSON files (task: recognition, retrieval, detection)')
    parser.add_argument('--out', help='also write the Markdown to this file')
    parser.add_argument('--fig-dir', help='folder of the PNG figures (default: next to --out, else report_figures/)')
    return parser.parse_args(argv)


@tool_main
def main(argv: list[str] | None = None) -> str:
    args = parse_args(argv)
    from vpd_mm.corpus.corpus import atomic_write_bytes
    from vpd_mm.protocols.report import load_results, plot_detection, plot_fewshot, render_report

    try:
        docs = load_results(args.results)
    except ValueError as error:
        fail(f'{error}')
    fig_dir = args.fig_dir or (osp.dirname(osp.abspath(args.out)) if args.out else 'report_figures')
    text = render_report(docs)
    figures = []
    if plot_fewshot(docs, osp.join(fig_dir, 'fewshot.png')):
        figures.append(osp.join(fig_dir, 'fewshot.png'))
    if plot_detection(docs, osp.join(fig_dir, 'detection.png')):
        figures.append(osp.join(fig_dir, 'detection.png'))
    if figures:
        text += '\nFigures:\n\n' + '\n'.join(f'![{osp.basename(p)}]({p})' for p in figures) + '\n'
    if args.out:
        data = text.encode()
        atomic_write_bytes(args.out, lambda f: f.write(data))
    print(text)
    return text


if __name__ == '__main__':
    main()
