"""Baseline datasets and transforms: action selection, windows, crops, flow, full-frame windows, poses."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import vpd_mm  # noqa: F401  (stack fixes, registration)
from mmaction.registry import DATASETS, TRANSFORMS
from mmengine.registry import init_default_scope

from vpd_mm.corpus import Corpus, CorpusFormatError
from vpd_mm.datasets import corpus_to_pose_dataset
from vpd_mm.datasets.baseline_actions import select_actions
from vpd_mm.datasets.crop_frames import flow_to_uint8
from vpd_mm.corpus.crop_store import CropStore
from vpd_mm.corpus.fewshot import carve_validation

init_default_scope('mmaction')


def copy_corpus(corpus: Corpus, dest, sport: str | None = None) -> Corpus:
    shutil.copytree(corpus.root, dest)
    copy = Corpus(str(dest))
    if sport is not None:
        meta = copy.read_meta()
        meta.sport = sport
        copy.write_meta(meta)
    return copy


def build(**cfg):
    return DATASETS.build(cfg)


# ------------------------------------------------------------------------------------------------ selection
def test_select_actions_splits_classes_fewshot(crop_corpus, tmp_path):
    train, classes = select_actions(crop_corpus, 'train')
    assert classes == ['jump', 'wave', 'spin'] and len(train) == 10 and {a.split for a in train} == {'train'}
    test, _ = select_actions(crop_corpus, 'test', classes=['spin', 'jump'])
    assert [a.id for a in test] == ['tiny_007_1', 'tiny_008_0', 'tiny_008_1']
    with pytest.raises(CorpusFormatError, match='unknown class names'):
        select_actions(crop_corpus, 'train', classes=['jump', 'salchow'])

    ids = tmp_path / '2_0.txt'
    crop_corpus.write_id_list(str(ids), ['tiny_003_1', 'tiny_000_0'])
    few, _ = select_actions(crop_corpus, 'train', fewshot_file=str(ids))
    assert [a.id for a in few] == ['tiny_000_0', 'tiny_003_1']  # corpus order
    assert len(select_actions(crop_corpus, 'val', fewshot_file=str(ids))[0]) == 4  # val untouched
    crop_corpus.write_id_list(str(ids), ['tiny_000_0', 'tiny_008_0'])
    with pytest.raises(CorpusFormatError, match=r'2_0.txt.*val/test actions'):
        select_actions(crop_corpus, 'train', fewshot_file=str(ids))


def test_select_actions_carves_validation_from_train(crop_corpus, tmp_path):
    corpus = Corpus(str(tmp_path / 'novale'))
    corpus.write_meta(crop_corpus.read_meta())
    actions = [a for a in crop_corpus.read_actions()]
    for a in actions:
        a.split = 'train' if a.split == 'val' else a.split  # no native val split, like FX35 / Diving48
    corpus.write_actions(actions)
    carved = carve_validation(corpus.read_actions(), 0.3, seed=4)
    val, _ = select_actions(corpus, 'val', carve_val=0.3, carve_seed=4)
    train, _ = select_actions(corpus, 'train', carve_val=0.3, carve_seed=4)
    assert [a.id for a in val] == carved and carved
    assert not set(carved) & {a.id for a in train} and len(train) + len(val) == 14
    ids = tmp_path / 'ids.txt'
    corpus.write_id_list(str(ids), [carved[0]])
    val_few, _ = select_actions(corpus, 'val', carve_val=0.3, carve_seed=4, fewshot_file=str(ids))
    assert carved[0] not in {a.id for a in val_few}  # a few-shot training action never validates
    assert [a.id for a in select_actions(corpus, 'train', carve_val=0.3, carve_seed=4,
                                         fewshot_file=str(ids))[0]] == [carved[0]]


# ------------------------------------------------------------------------------------------------ crops and flow
def test_flow_to_uint8_is_symmetric_around_128():
    flow = np.array([[0.0, 20.0], [-20.0, 10.0], [35.0, -1e-3]], np.float32)
    np.testing.assert_array_equal(flow_to_uint8(flow), [[128, 255], [1, 192], [255, 128]])
    np.testing.assert_array_equal(256 - flow_to_uint8(flow).astype(int), flow_to_uint8(-flow))


def test_crop_dataset_decodes_the_sampled_crops(crop_corpus):
    pipeline = [dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3, test_mode=True),
                dict(type='CropDecode')]
    ds = build(type='CropActionDataset', data_root=crop_corpus.root, split='test', pipeline=pipeline,
               features='TSN (crop)')
    store = crop_corpus.crops
    actions = {a.id: a for a in crop_corpus.read_actions('test')}
    assert ds.num_actions == len(ds) == 4 and ds.features == 'TSN (crop)' and ds.skipped == []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        action = actions[info['action_id']]
        crop_frames = store.crop_frames(action.video_id)
        np.testing.assert_array_equal(
            info['frames'], crop_frames[(crop_frames >= action.start) & (crop_frames < action.end)])
        results = ds.pipeline(info)
        frames = info['frames'][results['frame_inds']]
        assert len(results['imgs']) == 3 and frames[0] < frames[1] < frames[2]
        for img, frame in zip(results['imgs'], frames):
            np.testing.assert_array_equal(img, store.read_crops(action.video_id, int(frame))[0])
        assert results['img_shape'] == (128, 128)


def test_flow_dataset_decodes_flow_images(crop_corpus):
    pipeline = [dict(type='SampleFrames', clip_len=5, frame_interval=1, num_clips=2), dict(type='CropDecode'),
                dict(type='FormatShape', input_format='NCHW')]
    ds = build(type='CropActionDataset', data_root=crop_corpus.root, split='val', modality='Flow',
               pipeline=pipeline)
    info = ds.get_data_info(0)
    results = ds.pipeline(dict(info))
    store = crop_corpus.crops
    frames = info['frames'][results['frame_inds']]
    assert results['imgs'].shape == (2, 10, 128, 128)  # 2 segments x (5 flow fields x dx, dy)
    first = flow_to_uint8(store.read_flow(info['video_id'], int(frames[0])))
    np.testing.assert_array_equal(results['imgs'][0, 0], first[..., 0])
    np.testing.assert_array_equal(results['imgs'][0, 1], first[..., 1])


def test_flip_stacked_flow_negates_dx_of_every_frame():
    rng = np.random.default_rng(0)
    flows = [rng.uniform(-20, 20, (4, 6, 2)).astype(np.float32) for _ in range(2)]
    imgs = [flow_to_uint8(f) for f in flows]
    ours = TRANSFORMS.build(dict(type='FlipStackedFlow', flip_ratio=1.0))
    out = ours.transform(dict(imgs=[i.copy() for i in imgs]))
    for flipped, flow in zip(out['imgs'], flows):
        mirrored = flow[:, ::-1] * np.array([-1, 1], np.float32)  # mirror the field, negate dx
        np.testing.assert_array_equal(flipped, flow_to_uint8(mirrored))
    # mmaction2's Flip on the same stacked images: it inverts both channels of frame 0 and none of frame 1
    theirs = TRANSFORMS.build(dict(type='Flip', flip_ratio=1.0))
    wrong = theirs.transform(dict(imgs=[i.copy() for i in imgs], modality='Flow', img_shape=(4, 6)))['imgs']
    np.testing.assert_array_equal(wrong[0][..., 1], 255 - imgs[0][:, ::-1, 1])  # dy inverted: wrong
    np.testing.assert_array_equal(wrong[1][..., 0], imgs[1][:, ::-1, 0])  # dx kept: wrong


def test_sport_window_and_skips(crop_corpus, tmp_path):
    corpus = copy_corpus(crop_corpus, tmp_path / 'fx', sport='fx35')
    shutil.rmtree(corpus.path('crops', 'tiny_008'))
    ds = build(type='CropActionDataset', data_root=corpus.root, split='test', pipeline=[])
    by_id = {ds.get_data_info(i)['action_id']: ds.get_data_info(i) for i in range(len(ds))}
    # FX35 windows start 0.25 s (6.25 frames at 25 fps) before the action: tiny_007_0 is [3, 19) -> [0, 19)
    assert by_id['tiny_007_0']['window'] == (0, 19)
    np.testing.assert_array_equal(by_id['tiny_007_0']['frames'], np.arange(0, 19))
    assert by_id['tiny_007_1']['window'] == (17, 40)  # [24, 40): floor(24 - 6.25) = 17
    assert sorted(i for i, _ in ds.skipped) == ['tiny_008_0', 'tiny_008_1']
    assert 'no crops/tiny_008' in ds.skipped[0][1]
    shutil.rmtree(corpus.path('crops', 'tiny_007'))
    with pytest.raises(ValueError, match='none of the 4 actions is usable'):
        build(type='CropActionDataset', data_root=corpus.root, split='test', pipeline=[])


# ------------------------------------------------------------------------------------------------ full frames
def test_action_window_keeps_segments_inside_the_action(crop_corpus):
    pipeline = [dict(type='DecordInit'), dict(type='ActionWindow'),
                dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=4, test_mode=True),
                dict(type='DecordDecode')]
    ds = build(type='CorpusVideoDataset', data_root=crop_corpus.root, split='train', pipeline=pipeline)
    assert len(ds) == 10
    for i in (0, 9):
        info = ds.get_data_info(i)
        start, end = info['window']
        results = ds.pipeline(dict(info))
        assert results['start_index'] == start and results['total_frames'] == end - start
        inds = results['frame_inds']
        assert inds.min() >= start and inds.max() < end and len(np.unique(inds)) == 4
        assert results['imgs'][0].shape == (120, 160, 3)
    window = TRANSFORMS.build(dict(type='ActionWindow'))
    with pytest.raises(ValueError, match=r'v.mp4: window \(60, 70\) holds no frame of the 50-frame video'):
        window.transform(dict(filename='v.mp4', window=(60, 70), total_frames=50))


# ------------------------------------------------------------------------------------------------ poses
def test_corpus_pose_dataset_equals_the_pose_export(crop_corpus):
    exported = {a['frame_dir']: a for a in corpus_to_pose_dataset(crop_corpus)['annotations']}
    for split in ('train', 'val', 'test'):
        ds = build(type='CorpusPoseDataset', data_root=crop_corpus.root, split=split, window='action',
                   pipeline=[])
        assert len(ds) == {'train': 10, 'val': 4, 'test': 4}[split]
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            ref = exported[info['frame_dir']]
            for key in ('label', 'total_frames', 'img_shape'):
                assert info[key] == ref[key], key
            np.testing.assert_array_equal(info['keypoint'], ref['keypoint'])
            np.testing.assert_array_equal(info['keypoint_score'], ref['keypoint_score'])


def test_corpus_pose_dataset_sport_window_and_gcn_pipeline(crop_corpus, tmp_path):
    corpus = copy_corpus(crop_corpus, tmp_path / 'tennis', sport='tennis7')
    pipeline = [dict(type='PreNormalize2D'), dict(type='GenSkeFeat', dataset='coco', feats=['j']),
                dict(type='UniformSampleFrames', clip_len=8, num_clips=2, test_mode=True), dict(type='PoseDecode'),
                dict(type='FormatGCNInput', num_person=1), dict(type='PackActionInputs')]
    ds = build(type='CorpusPoseDataset', data_root=corpus.root, split='train', pipeline=pipeline)
    info = ds.get_data_info(0)  # tiny_000_0 = [8, 24): contact 16, +-0.5 s = +-12.5 frames -> [3, 28)
    assert info['action_id'] == 'tiny_000_0' and info['window'] == (3, 28) and info['total_frames'] == 25
    pose = corpus.read_pose('tiny_000')
    np.testing.assert_array_equal(info['keypoint'][0], pose.keypoints[3:28])
    sample = ds[0]
    assert tuple(sample['inputs'].shape) == (2, 1, 8, 17, 3)  # clips, persons, frames, joints, (x, y, score)
    assert int(sample['data_samples'].gt_label) == 0
