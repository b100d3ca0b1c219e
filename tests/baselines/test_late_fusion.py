"""Late fusion of --dump predictions (2-stream TSN, MS-G3D ensemble): arithmetic, checks, the tool."""
from __future__ import annotations

import json
import os.path as osp

import numpy as np
import pytest

from conftest import REPO, run_python
from vpd_mm.protocols.late_fusion import accuracy, fuse_predictions, read_predictions


def dump(path, scores, labels):
    entries = [dict(pred_score=list(map(float, s)), pred_label=[int(np.argmax(s))], gt_label=[int(g)])
               for s, g in zip(scores, labels)]
    path.write_text(json.dumps(entries))
    return str(path)


RGB = [[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.4, 0.4, 0.2], [0.1, 0.2, 0.7]]
FLOW = [[0.1, 0.8, 0.1], [0.1, 0.3, 0.6], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]]
LABELS = [1, 2, 1, 2]


def test_weighted_mean_of_scores(tmp_path):
    rgb = read_predictions(dump(tmp_path / 'rgb.json', RGB, LABELS))
    flow = read_predictions(dump(tmp_path / 'flow.json', FLOW, LABELS))
    # rgb argmax [0, 1, 0 (tie -> first), 2]: only sample 3 right; class 1: 0 of 2, class 2: 1 of 2
    assert accuracy(*rgb) == {'acc/top1': 0.25, 'acc/mean1': 0.25}
    scores, labels = fuse_predictions([rgb, flow])
    np.testing.assert_allclose(scores[0], [0.35, 0.55, 0.1])
    assert scores.argmax(1).tolist() == [1, 2, 1, 2] and accuracy(scores, labels)['acc/top1'] == 1.0
    scores, _ = fuse_predictions([rgb, flow], weights=[3, 1])
    np.testing.assert_allclose(scores[0], [0.475, 0.425, 0.1])  # (3 * rgb + flow) / 4: rgb wins sample 0
    assert scores.argmax(1)[0] == 0


def test_refuses_different_test_sets(tmp_path):
    rgb = read_predictions(dump(tmp_path / 'rgb.json', RGB, LABELS))
    other = read_predictions(dump(tmp_path / 'other.json', FLOW, [1, 2, 0, 2]))
    with pytest.raises(ValueError, match='b.json: ground-truth label of sample 2 differs from a.json'):
        fuse_predictions([rgb, other], names=['a.json', 'b.json'])
    short = read_predictions(dump(tmp_path / 'short.json', FLOW[:3], LABELS[:3]))
    with pytest.raises(ValueError, match='3 samples x 3 classes'):
        fuse_predictions([rgb, short])
    with pytest.raises(ValueError, match='non-negative weights'):
        fuse_predictions([rgb, rgb], weights=[1, -1])
    (tmp_path / 'bad.json').write_text('[{"pred_score": [0.1, "x"], "gt_label": 0}]')
    with pytest.raises(ValueError, match='bad.json: entry 0'):
        read_predictions(str(tmp_path / 'bad.json'))


def test_tool(tmp_path, capsys):
    import importlib.util
    spec = importlib.util.spec_from_file_location('late_fusion_tool', osp.join(REPO, 'tools', 'late_fusion.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    rgb, flow = dump(tmp_path / 'rgb.json', RGB, LABELS), dump(tmp_path / 'flow.json', FLOW, LABELS)
    out, doc = tmp_path / 'fused.json', tmp_path / 'doc.json'
    metrics = tool.main([rgb, flow, '--out', str(out), '--doc', str(doc), '--sport', 'fx35',
                         '--name', 'TSN (crop; 2-stream)'])
    assert metrics == {'acc/top1': 1.0, 'acc/mean1': 1.0}
    assert 'fused (4 samples, weights [1.0, 1.0]): top-1 100.0 %' in capsys.readouterr().out
    fused = json.loads(out.read_text())
    assert [e['pred_label'] for e in fused] == [1, 2, 1, 2]
    document = json.loads(doc.read_text())
    assert document['task'] == 'recognition' and document['results']['all']['mean'] == 1.0
    assert document['features'] == 'TSN (crop; 2-stream)' and document['sport'] == 'fx35'
    with pytest.raises(SystemExit) as error:
        tool.main([rgb, str(tmp_path / 'missing.json')])
    assert error.value.code == 2 and str(error.value) == f'error: {tmp_path / "missing.json"}: file does not exist'
    result = run_python(['tools/late_fusion.py', '--help'], timeout=120)
    assert result.returncode == 0 and 'usage:' in result.stdout
