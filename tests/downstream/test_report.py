"""tools/report.py: result JSONs rendered as the paper's tables and figures."""
from __future__ import annotations

import json
import os.path as osp

import pytest

from downstream.conftest import load_tool
from vpd_mm.protocols.report import detection_table, load_results, recognition_table, retrieval_table


def _write(path, doc):
    path.write_text(json.dumps(doc))
    return str(path)


@pytest.fixture
def result_files(tmp_path):
    rec = dict(sport='fsjump6', method='bigru', task='recognition')
    return [
        _write(tmp_path / 'a.json', dict(rec, features='teacher/pose2d', results={
            'all': dict(mean=0.955, std=0.0, accs=[0.955]), '4': dict(mean=0.5, std=0.1, accs=[0.4, 0.6]),
            '8': dict(mean=0.6, std=0.05, accs=[0.55, 0.65])})),
        _write(tmp_path / 'b.json', dict(rec, features='features/vi_vpd', results={
            'all': dict(mean=0.974, std=0.004, accs=[0.97, 0.978]), '4': dict(mean=0.62, std=0.0, accs=[0.62])})),
        _write(tmp_path / 'c.json', dict(rec, sport='fx35', features='features/vi_vpd', method='dtw', results={
            '4': dict(mean=0.3, std=0.02, accs=[0.28, 0.32])})),
        _write(tmp_path / 'r.json', dict(task='retrieval', sport='tennis7', features='teacher/vipe',
                                         precision={'1': 0.924, '10': 0.9, '50': 0.859})),
        _write(tmp_path / 'd.json', dict(task='detection', sport='fsjump6', features='features/2d_vpd',
                                         ap={'0.3': 0.857, '0.5': 0.615, '0.7': 0.258})),
    ]


def test_tables_in_the_papers_layout(result_files):
    docs = load_results(result_files)
    table1 = recognition_table(docs).splitlines()
    assert table1[0] == '| Dataset (Top-1 acc) | FSJump6 |'
    assert table1[2] == '| Normalized 2D joints | 95.5 ± 0.0 |'
    assert table1[3] == '| (Ours) VI-VPD | 97.4 ± 0.4 |'
    table3 = retrieval_table(docs).splitlines()
    assert table3[0] == '| Dataset | Tennis7 P@1 | Tennis7 P@10 | Tennis7 P@50 |'
    assert table3[2] == '| VIPE* | 92.4 | 90.0 | 85.9 |'
    table4 = detection_table(docs).splitlines()
    assert table4[0] == '| Temporal IoU | 0.3 | 0.5 | 0.7 |'
    assert table4[2:] == ['| *FSJump6* |  |  |  |', '| (Ours) 2D-VPD | 85.7 | 61.5 | 25.8 |']


def test_report_tool_writes_markdown_and_figures(result_files, tmp_path):
    report = load_tool('report')
    out = str(tmp_path / 'out' / 'report.md')
    text = report.main([*result_files, '--out', out])
    with open(out) as f:
        assert f.read() == text
    assert '**FX35**' in text and '| (Ours) VI-VPD (NNS) | 30.0 ± 2.0 |' in text
    assert '| Normalized 2D joints | 50.0 ± 10.0 | 60.0 ± 5.0 |' in text
    for name in ('fewshot.png', 'detection.png'):
        assert osp.getsize(tmp_path / 'out' / name) > 1000


def test_report_tool_bad_input(tmp_path):
    report = load_tool('report')
    bad = tmp_path / 'bad.json'
    bad.write_text('{"task": "recognition"')
    with pytest.raises(SystemExit, match=r'^error: .*bad.json: not valid JSON'):
        report.main([str(bad)])
    bad.write_text('{"task": "nothing", "sport": "x", "features": "y"}')
    with pytest.raises(SystemExit, match=r'^error: .*bad.json: not a result document'):
        report.main([str(bad)])
    bad.write_text('{"task": "detection", "sport": "x", "features": "y"}')
    with pytest.raises(SystemExit, match=r'^error: .*bad.json: a detection document needs a "ap" object$'):
        report.main([str(bad)])
