"""`make demo` in miniature: tools/demo.py --preset tiny runs the whole pipeline (render, MediaPipe teacher on each
video and its mirror, PCK, the score design check, crops, flow, the oracle and 2D teachers, VIPE* training, three
distillations (oracle student, 2D-VPD, VI-VPD), feature extraction, few-shot BiGRU and DTW-NN on six feature sets,
the headroom design check, decoder error) on 3 classes x 3 instances, writes every output, and a rerun reuses the
finished stages."""
from __future__ import annotations

import json
import os.path as osp

import numpy as np
import pytest

from conftest import run_python

STAGES = ('corpus', 'teacher_pose', 'teacher_pck', 'design_scores', 'crops_flow', 'teacher_pose2d',
          'distill_oracle_student', 'vipe_train', 'teacher_vipe', 'distill_2d_vpd', 'distill_vi_vpd', 'fewshot_gt2d',
          'fewshot_pose2d', 'fewshot_vipe', 'fewshot_oracle_student', 'fewshot_2d_vpd', 'fewshot_vi_vpd',
          'decoder_error')
FEATURE_SETS = ('Oracle: ground-truth 2D joints', 'Normalized 2D joints', 'VIPE*', 'Oracle student (from gt2d)',
                '2D-VPD', 'VI-VPD')


@pytest.mark.slow
def test_demo_miniature_end_to_end_and_rerun(tmp_path):
    out = str(tmp_path / 'demo')
    result = run_python(['tools/demo.py', '--preset', 'tiny', '--out', out], timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    printed = result.stdout

    with open(osp.join(out, 'results.json')) as f:
        results = json.load(f)
    # the table: 6 feature sets x 2 methods, one column per k
    rows = [line for line in results['table_markdown'].splitlines() if line.startswith('| BiGRU') or
            line.startswith('| DTW-NN')]
    assert len(rows) == 12 and all(row.count('|') == 3 for row in rows)  # label + k=1
    assert '| Features | k=1 |' in printed
    labels = {(d['method'], d['label']) for d in results['fewshot']}
    assert labels == {(m, n) for m in ('bigru', 'dtw') for n in FEATURE_SETS}
    # the design checks, measured without any student
    design = results['design_checks']
    for method in ('bigru', 'dtw'):
        row = design['headroom'][method]['1']
        assert row['gap'] == pytest.approx(row['oracle'] - row['teacher'], abs=0.11)
    scores = design['teacher_score']
    assert scores['frames'] > 0 and set(scores['candidates']) == {'pose', 'mirror', 'temporal', 'mirror_temporal'}
    assert all((c['rho'] is None or -1 <= c['rho'] <= 1) and 0 <= c['removed'] <= 1
               for c in scores['candidates'].values())
    # the three students, with their validation loss against the mean target
    assert set(results['students']) == {'oracle_student', '2d_vpd', 'vi_vpd'}
    assert results['students']['oracle_student']['teacher'] == 'gt2d'
    assert all(s['val_loss'] > 0 and s['val_loss_const'] > 0 for s in results['students'].values())
    assert results['preset_sizes']['input_size'] == 32
    machine = results['machine']  # what the arithmetic depends on beyond the code
    assert machine['cpu'] and machine['torch_cpu_capability'] and machine['cores'] >= 1
    assert machine['torch'] == __import__('torch').__version__
    for doc in results['fewshot']:
        acc = doc['results']['1']
        assert 0.0 <= acc['mean'] <= 1.0 and len(doc['runs']) == 1
    # every stage ran and was timed
    assert tuple(results['stage_seconds']) == STAGES
    # the teacher's PCK on sharp/blurred and slow/fast frames
    for subset in ('sharp', 'blurred', 'slow', 'fast', 'fast_blurred'):
        assert 0.0 <= results['teacher_pck'][subset]['pck'] <= 1.0
    assert osp.isfile(osp.join(out, 'teacher_pck.json'))
    # the decoder error on fast blurred test frames, beside the teacher's
    decoder = results['decoder_vs_teacher_fast_blurred_test']
    assert decoder['frames'] > 0 and np.isfinite(decoder['student_mean'])
    # every output file of the pipeline
    corpus = osp.join(out, 'corpus')
    videos = sorted(p[:-5] for p in __import__('os').listdir(osp.join(corpus, 'tracks')))
    assert len(videos) == 9
    for video in videos:
        for path in (f'videos/{video}.mp4', f'pose/{video}.npz', f'pose_mirror/{video}.npz', f'gt_pose/{video}.npz',
                     f'crops/{video}', f'flow/{video}', f'teacher/pose2d/{video}.npz', f'teacher/gt2d/{video}.npz',
                     f'teacher/vipe/{video}.npz', f'features/oracle_student/{video}.npz',
                     f'features/2d_vpd/{video}.npz', f'features/vi_vpd/{video}.npz'):
            assert osp.exists(osp.join(corpus, path)), path
    with np.load(osp.join(corpus, f'features/vi_vpd/{videos[0]}.npz')) as data:
        assert data['feats'].shape[1:] == (2, 64)
    assert osp.getsize(osp.join(out, 'fewshot.png')) > 1000

    # a rerun reuses every finished stage
    again = run_python(['tools/demo.py', '--preset', 'tiny', '--out', out], timeout=300)
    assert again.returncode == 0, again.stderr[-4000:]
    assert again.stdout.count('finished earlier') == len(STAGES)
