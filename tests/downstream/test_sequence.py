"""Sequences of per-frame features: interpolation, subsampling, per-sport windows, the registered datasets."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vpd_mm.corpus import Action, CorpusFormatError, FeatureTrack
from vpd_mm.datasets import ActionSequenceDataset, FrameWindowDataset
from vpd_mm.datasets.sequence import (PackSequenceInputs, action_window, detection_interval, frame_labels,
                                      interpolate_track, load_action_sequences, subsample_indices)


# ------------------------------------------------------------------------------------------------ interpolation
def test_interpolation_of_a_gap_hand_computed():
    # valid frames 10 and 14 with values 0 and 8 (view 0) and 100 and 20 (view 1): frames 11..13 lie on the line
    frames = np.array([10, 14])
    feats = np.array([[[0.0], [100.0]], [[8.0], [20.0]]], dtype=np.float32)  # (T, 2, 1)
    out = interpolate_track(frames, feats, np.arange(10, 15))
    np.testing.assert_allclose(out[:, 0, 0], [0, 2, 4, 6, 8])
    np.testing.assert_allclose(out[:, 1, 0], [100, 80, 60, 40, 20])
    # the reference's reversed weights would give 6 at frame 11 (0.25 * 0 + 0.75 * 8); ours is 2


def test_nan_rows_are_missing_and_edges_take_the_nearest_valid_frame():
    frames = np.array([3, 4, 5, 6])
    feats = np.array([1.0, np.nan, 5.0, 7.0], dtype=np.float32)[:, None, None].repeat(2, axis=1)  # (4, 2, 1)
    out = interpolate_track(frames, feats, np.arange(0, 9))[:, 0, 0]
    # frames 0..3 -> 1 (nearest valid, frame 3); 4 -> (1 + 5) / 2; 5 -> 5; 6 -> 7; 7, 8 -> 7 (nearest, frame 6)
    np.testing.assert_allclose(out, [1, 1, 1, 1, 3, 5, 7, 7, 7])
    with pytest.raises(ValueError, match='no valid'):
        interpolate_track(frames, np.full_like(feats, np.nan), np.arange(3))


# ------------------------------------------------------------------------------------------------ subsampling
def test_subsample_indices():
    np.testing.assert_array_equal(subsample_indices(6, 25, 25), np.arange(6))
    np.testing.assert_array_equal(subsample_indices(6, 50, 25), [0, 2, 4])
    # 30 fps -> 25: r = 5/6, floor(i r) for i = 0..6 is 0, 0, 1, 2, 3, 4, 5: frame 1 is dropped
    np.testing.assert_array_equal(subsample_indices(7, 30, 25), [0, 2, 3, 4, 5, 6])
    assert len(subsample_indices(60, 60, 25)) == 25
    assert len(subsample_indices(300, 29.97, 25)) == 250  # floor(299 * 25 / 29.97) + 1


# ------------------------------------------------------------------------------------------------ windows
def _action(start: int, end: int) -> Action:
    return Action(id='a', video_id='v', start=start, end=end, label='x', split='train')


def test_per_sport_windows_hand_computed():
    # figure skating: mid 120; start min(100, int(120 - 62.5) = 57), end max(140, int(120 + 12.5) = 132)
    assert action_window(_action(100, 140), 'fsjump6', 25) == (57, 140)
    # a short jump: mid 110; end max(115, int(122.5)) = 122
    assert action_window(_action(105, 115), 'fsjump6', 25) == (47, 122)
    # tennis: contact frame 200 (one-frame action), +-0.5 s
    assert action_window(_action(200, 201), 'tennis7', 25) == (187, 212)
    assert action_window(_action(200, 201), 'tennis7', 30) == (185, 215)
    # floor exercise: 0.25 s before the start
    assert action_window(_action(100, 180), 'fx35', 25) == (93, 180)
    assert action_window(_action(100, 180), 'fx35', 50) == (87, 180)
    # Diving48, the synthetic corpus, unknown sports: the action itself
    for sport in ('diving48', 'synthetic', 'something_new'):
        assert action_window(_action(0, 77), sport, 25) == (0, 77)
    assert action_window(_action(100, 140), 'fsjump6', 25, window='action') == (100, 140)
    # detection: tennis swings are 0.2 s around contact, other sports the action
    assert detection_interval(_action(200, 201), 'tennis7', 25) == (197, 202)
    assert detection_interval(_action(100, 140), 'fsjump6', 25) == (100, 140)


def test_frame_labels():
    actions = [_action(2, 5), _action(7, 12)]
    np.testing.assert_array_equal(frame_labels(actions, 10, 'fsjump6', 25), [0, 0, 1, 1, 1, 0, 0, 1, 1, 1])


def test_windows_clamped_and_subsampled_on_a_corpus(corpus_copy):
    meta = corpus_copy.read_meta()
    meta.sport, meta.fps, meta.max_fps = 'fsjump6', 50.0, 25.0
    corpus_copy.write_meta(meta)
    action = corpus_copy.read_actions()[0]  # tiny_000_0: frames [start, start + 16) of a 50-frame video
    seqs, skipped = load_action_sequences(corpus_copy, 'teacher/pose2d', [action])
    # window at 50 fps: start min(s, int(mid - 125)) -> clamped to 0; end max(e, int(mid + 25)); then every 2nd
    mid = (action.start + action.end) / 2
    end = min(max(action.end, int(mid + 25)), 50)
    assert not skipped
    assert seqs[action.id].shape == (len(range(0, end, 2)), 2, 26)
    track = corpus_copy.read_features('teacher', 'pose2d', action.video_id)
    np.testing.assert_allclose(seqs[action.id][1], track.feats[2], rtol=1e-6)


# ------------------------------------------------------------------------------------------------ datasets
def test_action_dataset_samples(pose2d_corpus):
    train = ActionSequenceDataset(pose2d_corpus.root, 'teacher/pose2d', split='train')
    assert train.num_actions == 10 and len(train) == 20  # original and mirrored are separate samples
    assert train.metainfo['classes'] == ('jump', 'wave', 'spin')
    first, second = train[0], train[1]
    assert first['inputs'].shape == (1, 16, 26) and second['inputs'].shape == (1, 16, 26)
    assert first['data_samples'].metainfo['views'] == (0,) and second['data_samples'].metainfo['views'] == (1,)
    assert first['data_samples'].metainfo['length'] == 16
    assert not torch.allclose(first['inputs'], second['inputs'])  # the mirrored view differs
    action = next(a for a in pose2d_corpus.read_actions() if a.id == first['data_samples'].metainfo['action_id'])
    assert int(first['data_samples'].gt_label) == ['jump', 'wave', 'spin'].index(action.label)
    track = pose2d_corpus.read_features('teacher', 'pose2d', action.video_id)
    np.testing.assert_allclose(second['inputs'][0, 0].numpy(), track.feats[action.start, 1], rtol=1e-6)

    test = ActionSequenceDataset(pose2d_corpus.root, 'teacher/pose2d', split='test')
    assert len(test) == 4 and test[0]['inputs'].shape == (2, 16, 26)  # both views in one sample


def test_variable_lengths_are_padded_in_time_and_carried(pose2d_corpus):
    from mmaction.models import ActionDataPreprocessor
    pack = PackSequenceInputs()
    rng = np.random.default_rng(0)
    items = [pack(dict(feats=rng.normal(size=(n, 2, 26)).astype(np.float32), views=(0, 1), label=1))
             for n in (5, 9)]
    batch = ActionDataPreprocessor()(dict(inputs=[i['inputs'] for i in items],
                                          data_samples=[i['data_samples'] for i in items]))
    assert batch['inputs'].shape == (2, 2, 9, 26)  # views kept, time padded to the longest
    assert [s.metainfo['length'] for s in batch['data_samples']] == [5, 9]
    assert torch.all(batch['inputs'][0, :, 5:] == 0)


def test_missing_features_are_a_counted_skip(corpus_copy):
    import os
    os.remove(corpus_copy.feature_path('teacher', 'pose2d', 'tiny_008'))  # a test video: 2 actions
    test = ActionSequenceDataset(corpus_copy.root, 'teacher/pose2d', split='test')
    assert test.num_actions == 2
    assert sorted(i for i, _ in test.skipped) == ['tiny_008_0', 'tiny_008_1']
    assert all('no feature file' in reason for _, reason in test.skipped)


def test_all_nan_frames_in_the_window_are_a_counted_skip(corpus_copy):
    action = corpus_copy.read_actions('test')[0]
    track = corpus_copy.read_features('teacher', 'pose2d', action.video_id)
    inside = (track.frames >= action.start) & (track.frames < action.end)
    track.feats[inside] = np.nan
    corpus_copy.write_features('teacher', 'pose2d', action.video_id, track)
    test = ActionSequenceDataset(corpus_copy.root, 'teacher/pose2d', split='test')
    assert [i for i, _ in test.skipped] == [action.id]
    assert 'no valid feature frame' in test.skipped[0][1]


def test_missing_feature_folder_names_it(pose2d_corpus):
    with pytest.raises(CorpusFormatError, match='features/vi_vpd'):
        ActionSequenceDataset(pose2d_corpus.root, 'features/vi_vpd', split='train')


def test_unknown_class_names_are_an_error(pose2d_corpus):
    with pytest.raises(CorpusFormatError, match=r"unknown class names \['salto'\]"):
        ActionSequenceDataset(pose2d_corpus.root, 'teacher/pose2d', split='train', classes=['jump', 'salto'])


def test_class_subset_leaves_others_out(pose2d_corpus):
    train = ActionSequenceDataset(pose2d_corpus.root, 'teacher/pose2d', split='train', classes=['wave', 'jump'])
    labels = {int(train[i]['data_samples'].gt_label) for i in range(len(train))}
    assert labels == {0, 1} and train.metainfo['classes'] == ('wave', 'jump')
    expected = sum(a.label in ('wave', 'jump') for a in pose2d_corpus.read_actions('train'))
    assert train.num_actions == expected


def test_class_absent_from_train_is_an_error(pose2d_corpus, tmp_path):
    ids = [a.id for a in pose2d_corpus.read_actions('train') if a.label != 'spin']
    path = str(tmp_path / 'no_spin.txt')
    pose2d_corpus.write_id_list(path, ids)
    with pytest.raises(ValueError, match="class 'spin' has no training action"):
        ActionSequenceDataset(pose2d_corpus.root, 'teacher/pose2d', split='train', fewshot_file=path)


def test_fewshot_file_selects_training_actions(pose2d_corpus, tmp_path):
    ids = [a.id for a in pose2d_corpus.read_actions('train')][:4]
    ids = ids + [next(a.id for a in pose2d_corpus.read_actions('train') if a.label == 'spin')]
    path = str(tmp_path / 'k.txt')
    pose2d_corpus.write_id_list(path, ids)
    train = ActionSequenceDataset(pose2d_corpus.root, 'teacher/pose2d', split='train', fewshot_file=path)
    assert {i['action_id'] for i in (train.get_data_info(j) for j in range(len(train)))} == set(ids)


def test_carved_validation_never_overlaps_train(corpus_copy, tmp_path):
    actions = corpus_copy.read_actions()
    for a in actions:
        if a.split == 'val':
            a.split = 'train'  # a corpus without a val split, like FX35 and Diving48
    corpus_copy.write_actions(actions)
    kw = dict(data_root=corpus_copy.root, features='teacher/pose2d', carve_val=0.3, views='original')
    train = ActionSequenceDataset(split='train', **kw)
    val = ActionSequenceDataset(split='val', **kw)
    train_ids = {train.get_data_info(i)['action_id'] for i in range(len(train))}
    val_ids = {val.get_data_info(i)['action_id'] for i in range(len(val))}
    # 14 training actions: jump 5, wave 5, spin 4 -> round(0.3 n) = 2, 2, 1 to validation
    assert len(val_ids) == 5 and len(train_ids) == 9 and not train_ids & val_ids
    # a few-shot list naming carved actions: they train, and leave the carved validation subset
    path = str(tmp_path / 'k.txt')
    corpus_copy.write_id_list(path, sorted(val_ids)[:2] + sorted(train_ids)[:3])
    val_k = ActionSequenceDataset(split='val', fewshot_file=path, **kw)
    assert {val_k.get_data_info(i)['action_id'] for i in range(len(val_k))} == val_ids - set(sorted(val_ids)[:2])


def test_frame_window_dataset(pose2d_corpus):
    train = FrameWindowDataset(pose2d_corpus.root, 'teacher/pose2d', window=20, mode='random', num_windows=30)
    assert len(train) == 30
    actions = pose2d_corpus.read_actions()
    np.random.seed(0)
    for i in range(10):
        info = train.get_data_info(i)
        assert info['feats'].shape == (20, 2, 26) and info['frame_labels'].shape == (20,)
        expected = frame_labels([a for a in actions if a.video_id == info['video_id']], 50, 'synthetic', 25)
        np.testing.assert_array_equal(info['frame_labels'], expected[info['start']:info['start'] + 20])
        assert info['video_id'] not in {'tiny_007', 'tiny_008'}  # test videos are not training videos
    tiles = FrameWindowDataset(pose2d_corpus.root, 'teacher/pose2d', splits=('test',), window=20, mode='tiles')
    assert len(tiles) == 2 * 2 * 3  # 2 videos x 2 views x ceil(50 / 20) windows
    assert sum(len(tiles.get_data_info(i)['frame_labels']) for i in range(len(tiles))) == 2 * 2 * 50
    with pytest.raises(ValueError, match='smaller window'):
        FrameWindowDataset(pose2d_corpus.root, 'teacher/pose2d', window=50, mode='random')
    assert isinstance(train.corpus.read_features('teacher', 'pose2d', 'tiny_000'), FeatureTrack)
