"""VPDFrameDataset: which frames reach the loss, split, targets, memory, sampler, and bad input."""
from __future__ import annotations

import logging
import os
import shutil

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import vpd_mm  # noqa: F401
from vpd_mm.corpus import Action, CorpusFormatError, FeatureTrack
from vpd_mm.datasets import ReplacementSampler, VPDFrameDataset
from vpd_mm.datasets.frame_dataset import videos_with_test_actions

VAL_PIPE = [dict(type='LoadCropAndFlow'), dict(type='PackDistillInputs')]


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')


def _dataset(corpus, **kwargs) -> VPDFrameDataset:
    kwargs.setdefault('teacher', 'pose2d')
    kwargs.setdefault('pipeline', VAL_PIPE)
    return VPDFrameDataset(data_root=corpus.root, **kwargs)


def _expected_frames(corpus, threshold: float, with_motion: bool = True, include_test: bool = False):
    """The eligibility rule, written out directly from the teacher files."""
    test = videos_with_test_actions(corpus)
    keys = set()
    for video_id in corpus.feature_ids('teacher', 'pose2d'):
        if video_id in test and not include_test:
            continue
        track = corpus.read_features('teacher', 'pose2d', video_id)
        for i, frame in enumerate(track.frames):
            if not track.scores[i] >= threshold or not np.isfinite(track.feats[i]).all():
                continue
            if with_motion and not (i > 0 and track.frames[i - 1] == frame - 1
                                    and np.isfinite(track.feats[i - 1]).all()):
                continue
            keys.add((video_id, int(frame)))
    return keys


def test_only_confident_frames_with_a_previous_frame(distill_corpus):
    everything = _dataset(distill_corpus, split='all')
    keys = set(everything.frame_keys())
    assert keys == _expected_frames(distill_corpus, 0.5)
    assert len(keys) == 294  # 7 non-test videos x 50 frames, minus 8 low-score frames each (0, 7, ..., 49)
    for video_id, frame in keys:
        track = distill_corpus.read_features('teacher', 'pose2d', video_id)
        row = int(np.searchsorted(track.frames, frame))
        assert track.scores[row] >= 0.5 and frame - 1 in track.frames
    assert not any(frame % 7 == 0 for _, frame in keys)  # the deliberately unsure frames never reach the loss
    assert not any(frame == 0 for _, frame in keys)  # frame 0 has no previous frame
    assert {v for v, _ in keys}.isdisjoint(videos_with_test_actions(distill_corpus))  # test videos excluded by default
    strict = _dataset(distill_corpus, split='all', min_score=0.9)
    assert set(strict.frame_keys()) == _expected_frames(distill_corpus, 0.9)
    assert len(strict) < len(everything)


def test_targets_and_motion(distill_corpus):
    data = _dataset(distill_corpus, split='all')
    for index in (0, 17, len(data) - 1):
        info = data.get_data_info(index)
        track = distill_corpus.read_features('teacher', 'pose2d', info['video_id'])
        row = int(np.searchsorted(track.frames, info['frame']))
        assert np.array_equal(info['target'], track.feats[row])
        assert np.array_equal(info['prev_target'], track.feats[row - 1])
        sample = data[index]['data_samples']
        assert torch.equal(sample.gt_pose, torch.from_numpy(track.feats[row, 0]))
        assert torch.allclose(sample.gt_motion, torch.from_numpy(track.feats[row, 0] - track.feats[row - 1, 0]))


def test_flipped_sample_targets_the_teachers_mirrored_row(distill_corpus):
    pipe = [dict(type='LoadCropAndFlow'), dict(type='MirrorCropAndTarget', prob=1.0),
            dict(type='PackDistillInputs')]
    for teacher in ('pose2d', 'vipe'):
        flipped = _dataset(distill_corpus, split='all', teacher=teacher, pipeline=pipe)
        plain = _dataset(distill_corpus, split='all', teacher=teacher)
        for index in (3, 100):
            info = flipped.get_data_info(index)
            track = distill_corpus.read_features('teacher', teacher, info['video_id'])
            row = int(np.searchsorted(track.frames, info['frame']))
            out, ref = flipped[index], plain[index]
            assert out['data_samples'].flip
            assert torch.equal(out['data_samples'].gt_pose, torch.from_numpy(track.feats[row, 1]))
            assert torch.allclose(out['data_samples'].gt_motion,
                                  torch.from_numpy(track.feats[row, 1] - track.feats[row - 1, 1]))
            assert torch.equal(out['inputs'][:3], ref['inputs'][:3].flip(-1))
            assert torch.equal(out['inputs'][3], -ref['inputs'][3].flip(-1))
            assert torch.equal(out['inputs'][4], ref['inputs'][4].flip(-1))


def test_without_motion_no_previous_frame_needed(distill_corpus):
    data = _dataset(distill_corpus, split='all', with_motion=False)
    assert set(data.frame_keys()) == _expected_frames(distill_corpus, 0.5, with_motion=False)
    assert 'gt_motion' not in data[0]['data_samples']


def test_include_test_and_action_frames(distill_corpus):
    everything = _dataset(distill_corpus, split='all', include_test=True)
    assert set(everything.frame_keys()) == _expected_frames(distill_corpus, 0.5, include_test=True)
    actions = _dataset(distill_corpus, split='all', frames='actions')
    spans = {}
    for action in distill_corpus.read_actions():
        spans.setdefault(action.video_id, []).append((action.start, action.end))
    keys = set(actions.frame_keys())
    assert keys and keys < set(_dataset(distill_corpus, split='all').frame_keys())
    assert all(any(s <= f < e for s, e in spans[v]) for v, f in keys)


def test_seeded_split(distill_corpus):
    train, val = _dataset(distill_corpus, split='train'), _dataset(distill_corpus, split='val')
    train_keys, val_keys = set(train.frame_keys()), set(val.frame_keys())
    assert not train_keys & val_keys and len(train_keys | val_keys) == 294
    assert len(val) == round(0.2 * 294)
    assert val_keys == set(_dataset(distill_corpus, split='val').frame_keys())  # same seed, same split
    assert val_keys != set(_dataset(distill_corpus, split='val', seed=1).frame_keys())
    by_video_val = _dataset(distill_corpus, split='val', split_by='video')
    by_video_train = _dataset(distill_corpus, split='train', split_by='video')
    assert {v for v, _ in by_video_val.frame_keys()}.isdisjoint({v for v, _ in by_video_train.frame_keys()})
    subset = _dataset(distill_corpus, split='val', max_frames=10)
    assert len(subset) == 10 and set(subset.frame_keys()) < val_keys


def test_index_memory_is_arrays_of_a_few_bytes_per_frame(distill_corpus):
    data = _dataset(distill_corpus, split='all')
    for array in (data.rows, data.table_frames, data.video_offsets, data.table_feats):
        assert isinstance(array, np.ndarray)
    per_frame = data.index_nbytes / data.num_eligible
    # 4 B row + 4 B frame number per stored teacher row (eligible frames and their previous frames) + offsets
    assert per_frame < 12
    assert per_frame * 5e6 < 100 * 2 ** 20  # 5 million frames: under 100 MiB of index
    assert data.target_nbytes == data.table_feats.size * 4 == len(data.table_frames) * 2 * 26 * 4


def test_replacement_sampler():
    dataset = list(range(10))
    sampler = ReplacementSampler(dataset, num_samples=1000, seed=3)
    epoch0 = list(sampler)
    assert len(epoch0) == 1000 and set(epoch0) == set(range(10))  # drawn with replacement from all frames
    assert epoch0 == list(ReplacementSampler(dataset, num_samples=1000, seed=3))
    sampler.set_epoch(1)
    assert list(sampler) != epoch0
    sampler.set_epoch(0)
    ranks = []
    for rank in range(2):
        shard = ReplacementSampler(dataset, num_samples=7, seed=3)
        shard.rank, shard.world_size, shard.total = rank, 2, 8
        ranks.append(list(shard))
    assert [len(r) for r in ranks] == [4, 4]
    full = ReplacementSampler(dataset, num_samples=8, seed=3)
    assert sorted(ranks[0] + ranks[1]) == sorted(full)


# ----------------------------------------------------------------------------------------------- bad input
def test_no_frame_passes_the_threshold(distill_corpus):
    with pytest.raises(CorpusFormatError, match=r'teacher/pose2d: scores: no frame is eligible.*below the thres'):
        _dataset(distill_corpus, min_score=1.01)


def test_video_without_crops_is_a_counted_logged_skip(corpus_copy, caplog):
    shutil.rmtree(corpus_copy.path('crops', 'tiny_001'))
    with caplog.at_level(logging.WARNING):
        data = _dataset(corpus_copy, split='all')
    assert data.skipped['no_crops'] == 1
    assert 'tiny_001' not in {v for v, _ in data.frame_keys()} and len(data) == 294 - 42
    with pytest.raises(CorpusFormatError, match='crops/tiny_001: folder: no complete crops'):
        _dataset(corpus_copy, split='all', strict=True)


def test_teacher_shorter_than_crops_is_a_counted_skip(corpus_copy):
    track = corpus_copy.read_features('teacher', 'pose2d', 'tiny_002')
    corpus_copy.write_features('teacher', 'pose2d', 'tiny_002',
                               FeatureTrack(track.frames[:30], track.feats[:30], track.scores[:30]))
    data = _dataset(corpus_copy, split='all')
    assert data.skipped['teacher_short'] == 1 and 'tiny_002' not in data.video_ids
    with pytest.raises(CorpusFormatError, match='tiny_002.npz: frames: 30 teacher frames lack 20 of the 50'):
        _dataset(corpus_copy, split='all', strict=True)


def test_corrupt_flow_file_is_a_clear_error(corpus_copy):
    data = _dataset(corpus_copy, split='all')
    video_id, frame = data.frame_keys()[0]
    blob = corpus_copy.path('flow', video_id, 'data.npy')
    array = np.load(blob)
    array[:] = 7  # every PNG is garbage now
    np.save(blob, array)
    fresh = _dataset(corpus_copy, split='all')
    with pytest.raises(CorpusFormatError, match=f'flow/{video_id}: frame {frame}: not a decodable'):
        fresh[0]
    os.truncate(blob, 100)  # a truncated file
    with pytest.raises(CorpusFormatError, match=f'flow/{video_id}'):
        _dataset(corpus_copy, split='all')[0]


def test_missing_actions_file_for_action_frames(corpus_copy):
    os.remove(corpus_copy.path('annotations', 'actions.json'))
    with pytest.raises(CorpusFormatError, match="actions.json: file: does not exist; frames='actions'"):
        _dataset(corpus_copy, frames='actions')
    assert len(_dataset(corpus_copy, split='all')) == 9 * 42  # no annotations: no video is known as test


def test_only_action_videos_marked_test_are_excluded(corpus_copy):
    actions = corpus_copy.read_actions()
    relabelled = [Action(a.id, a.video_id, a.start, a.end, a.label, 'train') for a in actions]
    corpus_copy.write_actions(relabelled)
    assert len(_dataset(corpus_copy, split='all')) == 9 * 42
