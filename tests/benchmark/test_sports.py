"""The mocap_sports corpus generator: files, consistency, determinism, motion blur, resume, tool errors."""
from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

from tests.benchmark.conftest import load_tool
from tests.conftest import run_python
from vpd_mm.mocap_sports.groundtruth import read_gt_pose
from vpd_mm.mocap_sports.plan import ACTION_CLASSES, PRESETS, SPORT, MocapSportsSpec, plan_instances, read_instances
from vpd_mm.mocap_sports.scene import render_instance
from vpd_mm.stages.mocap_sports import make_mocap_sports
from vpd_mm.corpus.corpus import Corpus


def test_tiny_corpus_files_are_consistent(tiny_mocap):
    import decord
    corpus = tiny_mocap
    meta = corpus.read_meta()
    spec = PRESETS['tiny']
    assert meta.sport == SPORT and meta.classes == list(spec.classes) and meta.fps == spec.fps
    assert meta.extra['width'] == 128 and meta.extra['gt_pose'] == 'gt_pose'
    assert MocapSportsSpec.from_json(meta.extra['spec']) == spec
    ids = corpus.video_ids()
    assert len(ids) == 9 and corpus.list_ids('gt_pose', '.npz') == ids
    assert corpus.list_ids('pose', '.npz') == []  # pose/ is the teacher's, not written here
    actions = corpus.read_actions()
    instances = {i.video_id: i for i in read_instances(corpus)}
    assert sorted(instances) == ids
    for label in spec.classes:  # one train, one val, one test instance per class
        assert sorted(a.split for a in actions if a.label == label) == ['test', 'train', 'val']
    for action in actions:
        gt = read_gt_pose(corpus, action.video_id)
        track = corpus.read_track(action.video_id)
        reader = decord.VideoReader(corpus.video_path(action.video_id))
        frame = reader[0].asnumpy()
        assert frame.shape == (128, 128, 3)
        assert len(reader) == len(gt) == len(track.frames) == instances[action.video_id].num_frames
        np.testing.assert_array_equal(track.boxes, np.round(gt.boxes, 3).astype(np.float32))
        assert 0 < action.start < action.end <= len(gt)
        assert instances[action.video_id].label == action.label
        # the box holds the joints that are inside the image
        inside = ((gt.keypoints >= 0) & (gt.keypoints < 128)).all(axis=-1)
        lo, hi = gt.boxes[:, None, :2], gt.boxes[:, None, :2] + gt.boxes[:, None, 2:]
        held = ((gt.keypoints >= lo - 1e-3) & (gt.keypoints <= hi + 1e-3)).all(axis=-1)
        assert held[inside].all()
        assert (gt.torso > 5).all() and np.isfinite(gt.speed).all() and (gt.subframes >= 1).all()


def test_the_spec_varies_what_it_says():
    instances = plan_instances(PRESETS['default'], seed=0)
    assert len(instances) == 8 * 24 and len({i.video_id for i in instances}) == len(instances)
    yaws = np.array([i.camera['yaw'] for i in instances])
    assert yaws.min() < 30 and yaws.max() > 330  # all around
    assert {i.mirror for i in instances} == {True, False}
    assert len({i.shutter for i in instances}) == 4
    speeds = [i.segments[1]['speed'] for i in instances]
    assert min(speeds) < 0.9 and max(speeds) > 1.4
    for inst in instances:
        assert inst.segments[1]['label'] == inst.label and inst.segments[0]['label'] is None
        clips = {c for c, _, _ in ACTION_CLASSES[inst.label].clips}
        assert inst.segments[1]['clip'] in clips and inst.segments[0]['clip'] not in clips
    counts = {(i.label, i.split) for i in instances}
    assert len(counts) == 8 * 3
    assert sum(i.split == 'train' for i in instances if i.label == 'cartwheel') == 16  # k up to 16 per class


def test_determinism(tiny_mocap, renderer):
    spec = PRESETS['tiny']
    a, b = plan_instances(spec, seed=0), plan_instances(spec, seed=0)
    assert [dataclasses.asdict(x) for x in a] == [dataclasses.asdict(x) for x in b]
    c = plan_instances(spec, seed=1)
    assert [x.camera for x in a] != [x.camera for x in c]
    # an instance does not depend on which other classes are generated
    kick_only = plan_instances(dataclasses.replace(spec, classes=('kick',)), seed=0)
    kicks = sorted((x for x in a if x.label == 'kick'), key=lambda x: x.index)
    assert [x.camera for x in sorted(kick_only, key=lambda x: x.index)] == [x.camera for x in kicks]
    # re-rendering an instance gives the stored ground truth and frames bit for bit
    inst = a[4]
    frames, gt = render_instance(inst, spec, renderer)
    stored = read_gt_pose(tiny_mocap, inst.video_id)
    np.testing.assert_array_equal(gt.keypoints, stored.keypoints)
    np.testing.assert_array_equal(gt.boxes, stored.boxes)
    frames2, _ = render_instance(inst, spec, renderer)
    np.testing.assert_array_equal(frames, frames2)


def test_motion_blur_frame_is_the_mean_of_subframe_renders(renderer):
    from vpd_mm.mocap_sports.scene import build_scene, exposure_times, ground_truth_pass
    spec = dataclasses.replace(PRESETS['tiny'], noise=(0.0, 0.0), shutters=(1 / 25,))
    inst = next(i for i in plan_instances(spec, seed=0) if i.label == 'spinkick')
    frames, gt = render_instance(inst, spec, renderer)
    f = int(np.argmax(gt.subframes))
    n = int(gt.subframes[f])
    assert n >= 4 and gt.blur[f] > 0.15
    scene = build_scene(inst, spec, renderer)
    _, ground_px = ground_truth_pass(scene, renderer, inst.num_frames, spec.blur_step_px, spec.max_subframes)
    t = f / spec.fps
    times = exposure_times(t, 1 / 25, n)
    assert times[0] == pytest.approx(t - 1 / 50 + 1 / 50 / n) and times[-1] == pytest.approx(t + 1 / 50 - 1 / 50 / n)
    shared = ground_px[f] / 25 * spec.fps < spec.blur_step_px
    backdrop = renderer.draw_backdrop(scene.routine.pose_at(t), scene.camera, scene.aim(t), scene.background) \
        if shared else None
    subs = [renderer.render_composite(scene.routine.pose_at(ts), scene.camera, scene.aim(ts), scene.background,
                                      backdrop)[0] for ts in times]
    expected = np.clip(np.round(np.mean(subs, axis=0)), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(expected, frames[f])
    assert np.abs(subs[0] - subs[-1]).max() > 50  # the sub-frames differ: the frame really is blurred
    sharp = np.clip(np.round(subs[n // 2]), 0, 255)
    assert np.abs(sharp - frames[f]).mean() > 0.5


def test_resume_and_settings_guard(tmp_path, tiny_mocap):
    spec = dataclasses.replace(PRESETS['tiny'], classes=('jump',))
    root = str(tmp_path / 'c')
    corpus = make_mocap_sports(root, spec, seed=0, progress=False)
    video = corpus.video_path('ms_0001')
    stamps = {v: os.path.getmtime(corpus.video_path(v)) for v in corpus.video_ids()}
    gt_before = read_gt_pose(corpus, 'ms_0001').keypoints
    os.remove(video)
    os.remove(corpus.path('annotations', 'actions.json'))
    lines = []
    make_mocap_sports(root, spec, seed=0, progress=False, log=lines.append)
    assert 'rendered 1 videos' in lines[0] and 'skipped 2' in lines[0]
    assert os.path.exists(video) and len(corpus.read_actions()) == 3
    for v, stamp in stamps.items():
        if v != 'ms_0001':
            assert os.path.getmtime(corpus.video_path(v)) == stamp
    np.testing.assert_array_equal(read_gt_pose(corpus, 'ms_0001').keypoints, gt_before)
    with pytest.raises(ValueError, match='other settings'):
        make_mocap_sports(root, spec, seed=1, progress=False)


def test_spec_errors():
    with pytest.raises(ValueError, match='unknown action classes'):
        plan_instances(dataclasses.replace(PRESETS['tiny'], classes=('moonwalk',)))
    with pytest.raises(ValueError, match='instances_per_class must be >= 3'):
        plan_instances(dataclasses.replace(PRESETS['tiny'], instances_per_class=2))


@pytest.mark.slow
def test_tool_runs_and_reports_bad_input(tmp_path):
    out = str(tmp_path / 'tool')
    result = run_python(['tools/data/make_mocap_sports.py', '--out', out, '--preset', 'tiny', '--classes', 'kick',
                         '--workers', '2', '--no-progress'], timeout=180)
    assert result.returncode == 0, result.stderr
    assert '3 videos, 3 actions' in result.stdout
    meta = json.load(open(os.path.join(out, 'meta.json')))
    assert meta['classes'] == ['kick'] and meta['extra']['preset'] == 'tiny'
    main = load_tool('tools/data/make_mocap_sports.py').main
    with pytest.raises(SystemExit, match="error: unknown --preset 'huge'"):
        main(['--out', out, '--preset', 'huge'])
    with pytest.raises(SystemExit, match='error: .*meta.json: this folder holds a corpus made with other settings'):
        main(['--out', out, '--preset', 'tiny', '--seed', '5', '--classes', 'kick', '--no-progress'])
    with pytest.raises(SystemExit, match='error: unknown --classes'):
        main(['--out', out, '--classes', 'moonwalk'])
    assert Corpus(out).read_meta().extra['seed'] == 0
