"""Result documents (JSON) rendered as the paper's tables (Markdown) and figures (PNG).

Every downstream tool writes one JSON document with a ``task`` field:

- ``recognition`` (``tools/fewshot.py``): ``sport``, ``features``, ``method`` ('bigru' or 'dtw'), ``results``:
  ``{k: {mean, std, accs}}`` with ``k`` an integer (few-shot) or ``'all'`` (full training set);
- ``retrieval`` (``tools/retrieve.py``): ``sport``, ``features``, ``precision``: ``{k: P@k}`` for k in 1, 10, 50;
- ``detection`` (``tools/detect.py``): ``sport``, ``features``, ``ap``: ``{tIoU: AP}``.

Values are fractions in [0, 1]; tables print percentages with one decimal, as the paper does. Table 1 is the
accuracy with all training data (``k = 'all'``), Table 3 the retrieval precision@k, Table 4 the detection AP;
Figure 3 (accuracy against k) is drawn from the few-shot results.
"""
from __future__ import annotations

import json
import math
import os
import os.path as osp
from collections import OrderedDict
from typing import Any, Sequence

from ..corpus.atomic import temp_prefix

__all__ = ['FEATURE_NAMES', 'SPORT_NAMES', 'load_results', 'feature_label', 'recognition_table', 'fewshot_table',
           'retrieval_table', 'detection_table', 'render_report', 'plot_fewshot', 'plot_detection']

FEATURE_NAMES = {
    'teacher/pose2d': 'Normalized 2D joints',
    'teacher/vipe': 'VIPE*',
    'teacher/vipe_inv': 'VIPE*',
    'features/2d_vpd': '(Ours) 2D-VPD',
    'features/vi_vpd': '(Ours) VI-VPD',
    'features/concat_vpd': '(Ours) Concat-VPD',
}
"""Paper names of the feature sets (others print as their folder name)."""
SPORT_NAMES = {'fsjump6': 'FSJump6', 'tennis7': 'Tennis7', 'fx35': 'FX35', 'diving48': 'Diving48'}
_SPORT_ORDER = list(SPORT_NAMES)
TASKS = ('recognition', 'retrieval', 'detection')


def load_results(paths: Sequence[str]) -> list[dict]:
    """Read result documents; each must be a JSON object with a known ``task``, ``sport`` and ``features``.

    Raises:
        ValueError: naming the file and the problem.
    """
    docs = []
    for path in paths:
        if not osp.isfile(path):
            raise ValueError(f'{path}: file does not exist')
        try:
            with open(path) as f:
                doc = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f'{path}: not valid JSON ({error})') from None
        if not isinstance(doc, dict) or doc.get('task') not in TASKS:
            raise ValueError(f'{path}: not a result document (needs "task" in {TASKS})')
        for key in ('sport', 'features'):
            if key not in doc:
                raise ValueError(f'{path}: missing "{key}"')
        need = dict(recognition='results', retrieval='precision', detection='ap')[doc['task']]
        if not isinstance(doc.get(need), dict):
            raise ValueError(f'{path}: a {doc["task"]} document needs a "{need}" object')
        doc['_path'] = path
        docs.append(doc)
    return docs


def feature_label(doc: dict) -> str:
    """Row label: the paper's name of the feature set, with ``(NNS)`` for DTW nearest neighbours."""
    label = FEATURE_NAMES.get(doc['features'], doc['features'])
    return label + (' (NNS)' if doc.get('method') == 'dtw' else '')


def _sport(sport: str) -> str:
    return SPORT_NAMES.get(sport, sport)


def _sports(docs: Sequence[dict]) -> list[str]:
    found = {d['sport'] for d in docs}
    return [s for s in _SPORT_ORDER if s in found] + sorted(found - set(_SPORT_ORDER))


def _pct(value: float | None, std: float | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '-'
    text = f'{100 * value:.1f}'
    return text + (f' ± {100 * std:.1f}' if std is not None else '')


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |', '| ' + ' | '.join(['---'] * len(header)) + ' |']
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return '\n'.join(lines)


def _rows(docs: Sequence[dict]) -> list[str]:
    return list(OrderedDict.fromkeys(feature_label(d) for d in docs))


def recognition_table(docs: Sequence[dict]) -> str:
    """Table 1: top-1 accuracy (%) with all of the training data (``k = 'all'``), features x sports."""
    docs = [d for d in docs if d['task'] == 'recognition' and 'all' in d['results']]
    if not docs:
        return ''
    sports = _sports(docs)
    cell = {(feature_label(d), d['sport']): d['results']['all'] for d in docs}
    rows = [[label] + [_pct(cell[(label, s)]['mean'], cell[(label, s)].get('std')) if (label, s) in cell else '-'
                       for s in sports] for label in _rows(docs)]
    return _table(['Dataset (Top-1 acc)'] + [_sport(s) for s in sports], rows)


def fewshot_table(docs: Sequence[dict]) -> str:
    """Figure 3 as a table: mean ± std top-1 accuracy (%) per k, one block of columns per sport."""
    docs = [d for d in docs if d['task'] == 'recognition']
    blocks = []
    for sport in _sports(docs):
        these = [d for d in docs if d['sport'] == sport]
        ks = sorted({int(k) for d in these for k in d['results'] if k != 'all'})
        if not ks:
            continue
        rows = []
        for d in these:
            res = d['results']
            rows.append([feature_label(d)] + [_pct(res[str(k)]['mean'], res[str(k)].get('std'))
                                              if str(k) in res else '-' for k in ks])
        blocks.append(f'**{_sport(sport)}**\n\n' + _table(['k'] + [str(k) for k in ks], rows))
    return '\n\n'.join(blocks)


def retrieval_table(docs: Sequence[dict], ks: Sequence[int] = (1, 10, 50)) -> str:
    """Table 3: precision@k (%) ranked by DTW alignment, features x (sport, k)."""
    docs = [d for d in docs if d['task'] == 'retrieval']
    if not docs:
        return ''
    sports = _sports(docs)
    cell = {(feature_label(d), d['sport']): {str(k): v for k, v in d['precision'].items()} for d in docs}
    rows = [[label] + [_pct(cell.get((label, s), {}).get(str(k))) for s in sports for k in ks]
            for label in _rows(docs)]
    header = ['Dataset'] + [f'{_sport(s)} P@{k}' for s in sports for k in ks]
    return _table(header, rows)


def detection_table(docs: Sequence[dict]) -> str:
    """Table 4: AP (%) at each temporal IoU, one block of rows per sport."""
    docs = [d for d in docs if d['task'] == 'detection']
    if not docs:
        return ''
    tious = sorted({float(t) for d in docs for t in d['ap']})
    rows = []
    for sport in _sports(docs):
        rows.append([f'*{_sport(sport)}*'] + [''] * len(tious))
        for d in (d for d in docs if d['sport'] == sport):
            ap = {float(t): v for t, v in d['ap'].items()}
            rows.append([feature_label(d)] + [_pct(ap.get(t)) for t in tious])
    return _table(['Temporal IoU'] + [f'{t:g}' for t in tious], rows)


def render_report(docs: Sequence[dict]) -> str:
    """All tables that the documents give, as one Markdown text."""
    parts = []
    for title, table in (('Table 1: accuracy with all of the training data', recognition_table(docs)),
                         ('Few-shot accuracy (Figure 3)', fewshot_table(docs)),
                         ('Table 3: action retrieval, precision@k', retrieval_table(docs)),
                         ('Table 4: few-shot action detection, AP at temporal IoU', detection_table(docs))):
        if table:
            parts.append(f'## {title}\n\n{table}\n')
    sources = '\n'.join(f'- `{d["_path"]}`' for d in docs if '_path' in d)
    if sources:
        parts.append(f'Sources:\n\n{sources}\n')
    return '\n'.join(parts)


def _figure(num_panels: int):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, num_panels, figsize=(4.2 * num_panels, 3.6), squeeze=False)
    return plt, fig, axes[0]


def _save(plt: Any, fig: Any, path: str) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.tight_layout()
    tmp = osp.join(osp.dirname(osp.abspath(path)), temp_prefix(path) + 'figure.png')
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def plot_fewshot(docs: Sequence[dict], path: str) -> bool:
    """Figure 3: top-1 accuracy against k (log scale), one panel per sport, one line per feature set (error
    bars: std over trials; the full-data accuracy, when present, dashed). Returns False when there is nothing to
    plot."""
    docs = [d for d in docs if d['task'] == 'recognition']
    sports = _sports(docs)
    if not sports:
        return False
    plt, fig, axes = _figure(len(sports))
    for ax, sport in zip(axes, sports):
        panel_ks: set[int] = set()
        for d in (d for d in docs if d['sport'] == sport):
            res = d['results']
            ks = sorted(int(k) for k in res if k != 'all')
            panel_ks.update(ks)
            line = None
            if ks:
                line = ax.errorbar(ks, [100 * res[str(k)]['mean'] for k in ks],
                                   yerr=[100 * res[str(k)].get('std', 0.0) for k in ks], marker='o', capsize=3,
                                   label=feature_label(d))
            if 'all' in res:
                color = line[0].get_color() if line is not None else None
                ax.axhline(100 * res['all']['mean'], linestyle='--', color=color,
                           label=None if line is not None else f'{feature_label(d)} (all)')
        ax.set_xscale('log', base=2)
        if panel_ks:
            ax.set_xticks(sorted(panel_ks), [str(k) for k in sorted(panel_ks)])
            ax.minorticks_off()
        ax.set_xlabel('examples per class (k)')
        ax.set_ylabel('top-1 accuracy (%)')
        ax.set_title(_sport(sport))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    _save(plt, fig, path)
    return True


def plot_detection(docs: Sequence[dict], path: str) -> bool:
    """AP against temporal IoU, one panel per sport, one line per feature set. False when nothing to plot."""
    docs = [d for d in docs if d['task'] == 'detection']
    sports = _sports(docs)
    if not sports:
        return False
    plt, fig, axes = _figure(len(sports))
    for ax, sport in zip(axes, sports):
        for d in (d for d in docs if d['sport'] == sport):
            tious = sorted(d['ap'], key=float)
            ax.plot([float(t) for t in tious], [100 * d['ap'][t] for t in tious], marker='o',
                    label=feature_label(d))
        ax.set_xlabel('temporal IoU')
        ax.set_ylabel('AP (%)')
        ax.set_ylim(0, 100)
        ax.set_title(_sport(sport))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    _save(plt, fig, path)
    return True
