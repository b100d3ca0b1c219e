"""vpd_mm.apis: init_* from a checkpoint and the config beside it; features of a raw video equal the corpus
stages' features; recognize/detect give what the evaluation path gives."""
from __future__ import annotations

import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch

from vpd_mm.apis import (detect, extract_features, find_config, init_detector, init_recognizer, init_student,
                         recognize)
from vpd_mm.apis.inference import ConfigNotFoundError
from vpd_mm.corpus import FeatureTrack
from vpd_mm.engine.checkpoint import CheckpointMismatchError


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_find_config_rules(tmp_path):
    folder = tmp_path / 'run_a'
    folder.mkdir()
    ckpt = folder / 'epoch_3.pth'
    ckpt.write_bytes(b'')
    with pytest.raises(ConfigNotFoundError, match='no config file beside the checkpoint') as error:
        find_config(str(ckpt))
    assert error.value.hint == 'pass the training config explicitly'
    (folder / 'x.py').write_text('')
    assert find_config(str(ckpt)) == str(folder / 'x.py')
    (folder / 'run_a.py').write_text('')
    assert find_config(str(ckpt)) == str(folder / 'run_a.py')  # two: the one named after the work dir
    (folder / 'run_a.py').unlink()
    (folder / 'y.py').write_text('')
    with pytest.raises(ConfigNotFoundError, match=r'2 config files \(x.py, y.py\)'):
        find_config(str(ckpt))


def test_features_of_a_raw_video_equal_the_corpus_stages(api_models, tmp_path):
    corpus = api_models.corpus
    student = init_student(None, api_models.student, device='cpu')
    assert student.dim == 26 and student.with_flow
    video_id = corpus.video_ids()[0]
    track = corpus.read_track(video_id)
    feats = extract_features(student, corpus.video_path(video_id), boxes=track.boxes, frames=track.frames)
    reference = student.video_features(corpus.root, video_id, corpus.crops.crop_frames(video_id))
    np.testing.assert_array_equal(feats.frames, corpus.crops.crop_frames(video_id))
    np.testing.assert_allclose(feats.feats, reference, atol=1e-5)
    assert feats.feats.shape == (len(feats.frames), 2, 26) and np.isnan(feats.scores).all()
    # the mirrored view is another input, so another feature
    assert not np.allclose(feats.feats[:, 0], feats.feats[:, 1])
    # a kept scratch corpus holds the stage outputs
    extract_features(student, corpus.video_path(video_id), boxes=track, work_dir=str(tmp_path / 'scratch'))
    assert sorted(os.listdir(tmp_path / 'scratch')) == ['crops', 'flow', 'tracks', 'videos']


def test_recognize_matches_the_test_step_of_the_dataset(student_features):
    from mmengine.dataset import pseudo_collate
    from mmaction.registry import DATASETS
    api_models = student_features
    corpus = api_models.corpus
    model = init_recognizer(None, api_models.recognizer, device='cpu')
    meta = corpus.read_meta()
    assert model.dataset_meta['classes'] == meta.classes and model.dataset_meta['features'] == 'features/student'
    dataset = DATASETS.build(model.cfg.test_dataloader.dataset)
    actions = {a.id: a for a in corpus.read_actions('test')}
    assert len(dataset) == len(actions) > 0
    for i in range(len(dataset)):
        expected = model.test_step(pseudo_collate([dataset[i]]))[0]
        action = actions[expected.metainfo['action_id']]
        track = corpus.read_features('features', 'student', action.video_id)
        result = recognize(model, track, [(action.start, action.end)], fps=meta.fps, topk=3)[0]
        scores = expected.pred_score.numpy()
        assert result['label_index'] == int(scores.argmax()) and result['label'] == meta.classes[result['label_index']]
        assert result['score'] == pytest.approx(float(scores.max()), abs=1e-6)
        assert [name for name, _ in result['topk']] == [meta.classes[j] for j in np.argsort(-scores)[:3]]
    # the whole track by default; an empty stretch gives no label
    whole = recognize(model, track)
    assert (whole[0]['start'], whole[0]['end']) == (int(track.frames[0]), int(track.frames[-1]) + 1)
    assert recognize(model, track, [(10_000, 10_010)])[0]['label'] is None
    with pytest.raises(CheckpointMismatchError, match='takes 26-d features'):
        recognize(model, FeatureTrack(track.frames, np.zeros((len(track.frames), 2, 8), np.float32), track.scores))


def test_detect_scores_every_frame_and_makes_proposals(student_features):
    from vpd_mm.evaluation.detection import proposals_from_scores
    corpus = student_features.corpus
    model = init_detector(None, student_features.detector, device='cpu')
    track = corpus.read_features('features', 'student', corpus.video_ids()[0])
    gappy = FeatureTrack(track.frames[::2], track.feats[::2], track.scores[::2])  # every other frame
    found = detect(model, gappy, threshold=0.5, min_length=2)
    scores = found['frame_scores']
    assert scores.shape == (int(gappy.frames[-1]) + 1,) and ((scores >= 0) & (scores <= 1)).all()
    threshold = float(np.median(scores))
    found = detect(model, gappy, threshold=threshold, min_length=2)
    assert [(s['start'], s['end']) for s in found['segments']] == \
        [(s, e) for s, e, _ in proposals_from_scores(scores, threshold, min_length=2)]
    assert detect(model, FeatureTrack(np.zeros(0, np.int32), np.zeros((0, 2, 26), np.float32),
                                      np.zeros(0, np.float32)))['segments'] == []


def test_init_refuses_wrong_checkpoints(api_models, tmp_path):
    with pytest.raises(CheckpointMismatchError, match="builds 'BiGRURecognizer', expected 'FrameBiGRUDetector'"):
        init_detector(None, api_models.recognizer)
    # the detector's weights under the recogniser's config
    folder = tmp_path / 'bad'
    shutil.copytree(osp.dirname(api_models.recognizer), folder)
    shutil.copy(api_models.detector, folder / 'epoch_1.pth')
    with pytest.raises(CheckpointMismatchError, match='epoch_1.pth'):
        init_recognizer(None, str(folder / 'epoch_1.pth'))
    with pytest.raises(Exception, match='checkpoint does not exist'):
        init_student(None, str(tmp_path / 'none.pth'))
