"""tools/infer_video.py and tools/visualize.py: raw videos -> JSON + overlay, resumable; drawings of a corpus."""
from __future__ import annotations

import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from tests.apis.conftest import api_models  # noqa: F401  (fixture)
from tests.benchmark.conftest import load_tool, tiny_mocap  # noqa: F401  (fixture)


def _frames(path: str) -> int:
    capture = cv2.VideoCapture(path)
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


@pytest.mark.slow
def test_infer_video_end_to_end_and_resume(api_models, tiny_mocap, tmp_path, capsys):  # noqa: F811
    videos = tmp_path / 'raw'
    videos.mkdir()
    ids = tiny_mocap.video_ids()[:2]
    for video_id in ids:                                    # raw videos: no tracks, no labels
        shutil.copy(tiny_mocap.video_path(video_id), videos / f'{video_id}.mp4')
    action = {a.video_id: a for a in tiny_mocap.read_actions()}[ids[0]]
    (tmp_path / 'actions.csv').write_text(f'video,start,end,label\n{ids[0]},{action.start},{action.end},x\n')
    out = tmp_path / 'out'
    tool = load_tool('tools/infer_video.py')
    argv = [str(videos / f'{v}.mp4') for v in ids] + [
        '--student', api_models.student, '--recognizer', api_models.recognizer, '--detector', api_models.detector,
        '--out', str(out), '--device', 'cpu', '--threshold', '0.0']
    tool.main(argv)
    assert '2 of 2 videos have predictions' in capsys.readouterr().out
    for video_id in ids:
        with open(out / f'{video_id}.json') as f:
            doc = json.load(f)
        assert doc['video_id'] == video_id and doc['tracked_frames'] > 0.8 * doc['num_frames']
        assert len(doc['frame_scores']) >= doc['tracked_frames'] and doc['threshold'] == 0.0
        assert doc['segments'] and all(s['label'] in doc['classes'] for s in doc['segments'])  # threshold 0: one
        assert doc['models']['student'] == osp.abspath(api_models.student)
        assert _frames(str(out / f'{video_id}.mp4')) == doc['num_frames']
    # resume: nothing is redone (the files keep their times); a recogniser-only run redoes the predictions
    stamp = os.stat(out / f'{ids[0]}.json').st_mtime_ns
    tool.main(argv)
    assert os.stat(out / f'{ids[0]}.json').st_mtime_ns == stamp
    tool.main([str(videos / f'{v}.mp4') for v in ids] + [
        '--student', api_models.student, '--recognizer', api_models.recognizer, '--out', str(out), '--device', 'cpu',
        '--actions', str(tmp_path / 'actions.csv')])
    with open(out / f'{ids[0]}.json') as f:
        doc = json.load(f)
    assert doc['frame_scores'] is None and len(doc['segments']) == 1
    assert doc['segments'][0]['given_label'] == 'x' and doc['segments'][0]['start'] == action.start


def test_infer_video_bad_input_is_one_line(api_models, tmp_path, capsys):  # noqa: F811
    tool = load_tool('tools/infer_video.py')
    with pytest.raises(SystemExit) as stop:
        tool.main([str(tmp_path / 'v.mp4'), '--student', api_models.student, '--out', str(tmp_path / 'o')])
    assert stop.value.code == 2 and capsys.readouterr().err.strip() == \
        'error: give --recognizer CKPT and/or --detector CKPT'
    lonely = tmp_path / 'lonely'
    lonely.mkdir()
    shutil.copy(api_models.student, lonely / 'student.pth')       # no config beside it
    (tmp_path / 'v.mp4').write_bytes(b'x')
    with pytest.raises(SystemExit) as stop:
        tool.main([str(tmp_path / 'v.mp4'), '--student', str(lonely / 'student.pth'), '--recognizer',
                   api_models.recognizer, '--out', str(tmp_path / 'o')])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and err == (f'error: {lonely / "student.pth"}: no config file beside the checkpoint '
                                            'to rebuild its model from (pass the training config explicitly)')


def test_visualize_draws_boxes_pose_crops_flow_and_predictions(api_models, tmp_path):  # noqa: F811
    corpus = api_models.corpus
    video_id = corpus.video_ids()[0]
    track = corpus.read_track(video_id)
    num = len(track.frames)
    predictions = tmp_path / 'pred'
    predictions.mkdir()
    (predictions / f'{video_id}.json').write_text(json.dumps(dict(
        classes=['a', 'b'], segments=[dict(start=5, end=20, label='b', label_index=1, score=0.8)],
        frame_scores=[i / num for i in range(num)], threshold=0.5)))
    tool = load_tool('tools/visualize.py')
    out = tmp_path / 'vis'
    tool.main([corpus.root, '--videos', video_id, '--out', str(out), '--predictions', str(predictions),
               '--mp4', '--png', '--panels', '4', '--height', '120'])
    sheet = cv2.imread(str(out / f'{video_id}.png'))
    frame = cv2.VideoCapture(corpus.video_path(video_id)).read()[1]
    width = int(round(frame.shape[1] * 120 / frame.shape[0])) + 60      # the frame, then the crop/flow column
    width += width % 2
    assert sheet.shape == (120 + 48, 4 * width, 3)                       # 4 panels of frame + timeline strip
    assert _frames(str(out / f'{video_id}.mp4')) == num
    # the athlete box is drawn in its colour (RGB 255, 200, 0 -> BGR 0, 200, 255) in the first panel
    first = sheet[:120, :sheet.shape[1] // 4]
    assert (np.abs(first.astype(int) - [0, 200, 255]).sum(axis=-1) < 60).sum() > 20
    # resumable: done videos are skipped
    before = os.stat(out / f'{video_id}.png').st_mtime_ns
    tool.main([corpus.root, '--videos', video_id, '--out', str(out), '--predictions', str(predictions),
               '--mp4', '--png', '--panels', '4', '--height', '120'])
    assert os.stat(out / f'{video_id}.png').st_mtime_ns == before
