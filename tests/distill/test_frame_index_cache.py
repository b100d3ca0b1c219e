"""VPDFrameDataset(targets='mmap'): the same samples as the in-RAM index, cache reuse, staleness, killed builds."""
from __future__ import annotations

import multiprocessing
import os
import os.path as osp
import pickle
import shutil
import signal
import time

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader

import vpd_mm  # noqa: F401
from vpd_mm.corpus import Corpus, CorpusFormatError, FeatureTrack
from vpd_mm.datasets import ReplacementSampler, VPDFrameDataset
from vpd_mm.datasets.frame_index_cache import FEATS_HEADER_BYTES, FrameIndexCache

VAL_PIPE = [dict(type='LoadCropAndFlow'), dict(type='PackDistillInputs')]


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')


def _dataset(corpus, **kwargs) -> VPDFrameDataset:
    kwargs.setdefault('teacher', 'pose2d')
    kwargs.setdefault('pipeline', [])
    return VPDFrameDataset(data_root=corpus.root, **kwargs)


def _assert_same_samples(memory: VPDFrameDataset, mapped: VPDFrameDataset) -> None:
    """Same frames, same order, same targets, bit for bit; same counts."""
    assert len(mapped) == len(memory) and mapped.num_eligible == memory.num_eligible
    assert np.array_equal(mapped.rows, memory.rows) and mapped.rows.dtype == memory.rows.dtype
    assert mapped.video_ids == memory.video_ids
    assert np.array_equal(mapped.video_offsets, memory.video_offsets)
    assert np.array_equal(mapped.table_frames, memory.table_frames)
    assert np.array_equal(mapped.table_feats, memory.table_feats)
    assert mapped.frame_keys() == memory.frame_keys()
    assert mapped.frame_counts == memory.frame_counts and mapped.skipped == memory.skipped
    assert mapped.index_nbytes == memory.index_nbytes and mapped.target_nbytes == memory.target_nbytes
    for index in range(len(memory)):
        a, b = memory.get_data_info(index), mapped.get_data_info(index)
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], np.ndarray):
                assert b[key].dtype == a[key].dtype and np.array_equal(a[key], b[key]), key
                assert b[key].flags.writeable
            else:
                assert a[key] == b[key], key


@pytest.mark.parametrize('options', [
    dict(split='train'),
    dict(split='val', max_frames=10),
    dict(split='all', with_motion=False),
    dict(split='val', split_by='video', seed=3),
    dict(split='all', frames='actions', include_test=True, teacher='vipe'),
])
def test_mmap_gives_the_same_samples_as_memory(distill_corpus, tmp_path, options):
    memory = _dataset(distill_corpus, **options)
    mapped = _dataset(distill_corpus, targets='mmap', cache_dir=str(tmp_path), **options)
    assert mapped.target_cache.status == 'built' and memory.target_cache is None
    _assert_same_samples(memory, mapped)
    again = _dataset(distill_corpus, targets='mmap', cache_dir=str(tmp_path), **options)
    assert again.target_cache.status == 'reused'
    _assert_same_samples(memory, again)


def test_same_batches_through_the_pipeline_and_two_workers(distill_corpus, tmp_path):
    memory = _dataset(distill_corpus, pipeline=VAL_PIPE)
    mapped = _dataset(distill_corpus, pipeline=VAL_PIPE, targets='mmap', cache_dir=str(tmp_path))

    def batches(dataset, workers):
        sampler = ReplacementSampler(dataset, num_samples=48, seed=0)
        loader = DataLoader(dataset, batch_size=16, sampler=sampler, num_workers=workers, collate_fn=pseudo_collate)
        return list(loader)

    for a, b in zip(batches(memory, 0), batches(mapped, 2), strict=True):
        assert torch.equal(torch.stack(a['inputs']), torch.stack(b['inputs']))
        for x, y in zip(a['data_samples'], b['data_samples']):
            assert (x.video_id, x.frame) == (y.video_id, y.frame)
            assert torch.equal(x.gt_pose, y.gt_pose) and torch.equal(x.gt_motion, y.gt_motion)


def test_cache_is_reused_without_reading_teacher_files(corpus_copy, monkeypatch):
    first = _dataset(corpus_copy, targets='mmap')
    entry = first.target_cache.entry
    assert first.target_cache.status == 'built'
    assert osp.dirname(entry) == corpus_copy.path('cache', 'frame_index')  # default: inside the corpus
    assert sorted(os.listdir(entry)) == sorted(['manifest.json', 'sources.npy', 'source_stats.npy', 'videos.npy',
                                                'offsets.npy', 'frames.npy', 'rows.npy', 'feats.npy'])
    assert not any(name.endswith('.partial') for name in os.listdir(osp.dirname(entry)))

    def no_reading(*args, **kwargs):
        raise AssertionError('a valid cache must not read teacher files')

    monkeypatch.setattr(Corpus, 'read_features', no_reading)
    val = _dataset(corpus_copy, targets='mmap', split='val')  # same eligibility parameters: same entry
    assert val.target_cache.status == 'reused' and val.target_cache.entry == entry
    assert set(val.frame_keys()).isdisjoint(first.frame_keys())
    assert len(val) + len(first) == first.num_eligible == 294


def test_stale_cache_is_rebuilt(corpus_copy):
    before = _dataset(corpus_copy, split='all')
    mapped = _dataset(corpus_copy, targets='mmap', split='all')
    assert 'tiny_002' in mapped.video_ids
    track = corpus_copy.read_features('teacher', 'pose2d', 'tiny_002')
    corpus_copy.write_features('teacher', 'pose2d', 'tiny_002',  # same size, new scores: nothing passes
                               FeatureTrack(track.frames, track.feats, np.zeros_like(track.scores)))
    rebuilt = _dataset(corpus_copy, targets='mmap', split='all')
    assert rebuilt.target_cache.status == 'built' and rebuilt.target_cache.entry == mapped.target_cache.entry
    assert 'tiny_002' not in rebuilt.video_ids and len(rebuilt) == 294 - 42
    _assert_same_samples(_dataset(corpus_copy, split='all'), rebuilt)
    _assert_same_samples(before, mapped)  # a dataset opened before the rebuild still reads the entry it opened

    shutil.rmtree(corpus_copy.path('flow', 'tiny_003'))  # the crop/flow stores are sources too
    without_flow = _dataset(corpus_copy, targets='mmap', split='all')
    assert without_flow.target_cache.status == 'built' and without_flow.skipped['no_flow'] == 1
    _assert_same_samples(_dataset(corpus_copy, split='all'), without_flow)

    other = _dataset(corpus_copy, targets='mmap', split='all', min_score=0.9)  # other parameters: another entry
    assert other.target_cache.status == 'built' and other.target_cache.entry != rebuilt.target_cache.entry
    assert _dataset(corpus_copy, targets='mmap', split='all').target_cache.status == 'reused'


def test_damaged_entry_is_rebuilt(corpus_copy):
    mapped = _dataset(corpus_copy, targets='mmap')
    feats = osp.join(mapped.target_cache.entry, 'feats.npy')
    os.truncate(feats, os.path.getsize(feats) - 8)
    repaired = _dataset(corpus_copy, targets='mmap')
    assert repaired.target_cache.status == 'built'
    _assert_same_samples(_dataset(corpus_copy), repaired)
    with open(osp.join(repaired.target_cache.entry, 'manifest.json'), 'w') as f:
        f.write('{"format": ')  # not JSON
    assert _dataset(corpus_copy, targets='mmap').target_cache.status == 'built'


def _slow_build(root: str, marker: str) -> None:
    """In a forked child: build the cache, stalling in the scan after 3 teacher files (the parent kills us)."""
    original = Corpus.read_features
    calls = []

    def slow(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            open(marker, 'w').close()
            time.sleep(60)
        return original(self, *args, **kwargs)

    Corpus.read_features = slow
    init_default_scope('mmaction')
    VPDFrameDataset(data_root=root, teacher='pose2d', targets='mmap')


def _kill_mid_build(corpus, tmp_path) -> None:
    marker = str(tmp_path / 'mid_build')
    child = multiprocessing.get_context('fork').Process(target=_slow_build, args=(corpus.root, marker))
    child.start()
    deadline = time.monotonic() + 15
    while not osp.exists(marker):
        assert child.is_alive() and time.monotonic() < deadline, 'the build did not start'
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    assert child.exitcode == -signal.SIGKILL


@pytest.mark.parametrize('with_old_entry', [False, True])
def test_killed_build_leaves_no_corrupt_cache(corpus_copy, tmp_path, with_old_entry):
    cache = FrameIndexCache(corpus_copy, _dataset(corpus_copy, targets='mmap')._cache_params())
    if not with_old_entry:
        shutil.rmtree(cache.entry)
    else:  # a stale entry: the killed build was replacing it
        track = corpus_copy.read_features('teacher', 'pose2d', 'tiny_004')
        corpus_copy.write_features('teacher', 'pose2d', 'tiny_004',
                                   FeatureTrack(track.frames, track.feats + 1, track.scores))
    old_manifest = (open(osp.join(cache.entry, 'manifest.json')).read() if with_old_entry else None)
    _kill_mid_build(corpus_copy, tmp_path)
    partial = osp.join(cache.cache_root, f'.{osp.basename(cache.entry)}.partial')
    assert osp.isdir(partial)  # what the killed build had written ...
    if with_old_entry:  # ... never replaced the entry, which is left whole (and stale)
        assert open(osp.join(cache.entry, 'manifest.json')).read() == old_manifest
    else:
        assert not osp.exists(cache.entry)
    resumed = _dataset(corpus_copy, targets='mmap')
    assert resumed.target_cache.status == 'built' and not osp.exists(partial)
    _assert_same_samples(_dataset(corpus_copy), resumed)


def test_failed_build_leaves_nothing(corpus_copy):
    with pytest.raises(CorpusFormatError, match='no frame is eligible'):
        _dataset(corpus_copy, targets='mmap', min_score=1.01)
    assert all(name.endswith('.lock') for name in os.listdir(corpus_copy.path('cache', 'frame_index')))


def test_strict_reuse_raises_the_recorded_skip(corpus_copy):
    shutil.rmtree(corpus_copy.path('crops', 'tiny_001'))
    assert _dataset(corpus_copy, targets='mmap').skipped['no_crops'] == 1
    with pytest.raises(CorpusFormatError, match='crops/tiny_001: folder: no complete crops'):
        _dataset(corpus_copy, targets='mmap', strict=True)


def test_pickled_dataset_reopens_the_cache(distill_corpus, tmp_path):
    mapped = _dataset(distill_corpus, targets='mmap', cache_dir=str(tmp_path))
    blob = pickle.dumps(mapped)
    assert len(blob) < mapped.target_nbytes  # the table is not pickled (a spawned worker reopens the entry)
    clone = pickle.loads(blob)
    for index in (0, len(mapped) - 1):
        assert np.array_equal(clone.get_data_info(index)['target'], mapped.get_data_info(index)['target'])


def test_bad_storage_options(distill_corpus, tmp_path):
    with pytest.raises(ValueError, match="targets must be one of"):
        _dataset(distill_corpus, targets='disk')
    not_a_folder = tmp_path / 'file'
    not_a_folder.write_text('')
    with pytest.raises(CorpusFormatError, match=r"file/sub: folder: cannot write the frame index cache .*cache_dir"):
        _dataset(distill_corpus, targets='mmap', cache_dir=str(not_a_folder / 'sub'))
    assert FEATS_HEADER_BYTES == 128
