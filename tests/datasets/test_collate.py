"""shared_storage_collate: the same batch as mmengine's pseudo_collate, but inside a DataLoader worker each kind of
tensor of the batch lives in one storage (one shared-memory block to send instead of one per sample)."""
from __future__ import annotations

import functools
import os

import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS
from torch.utils.data import DataLoader, Dataset

import vpd_mm  # noqa: F401
from mmaction.structures import ActionDataSample
from vpd_mm.datasets import shared_storage_collate


class _Samples(Dataset):
    """Sample i: inputs (5, 4, 4) filled with i, gt_pose (3,) = [i, i + 1, i + 2], a ragged field of length i + 1."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> dict:
        sample = ActionDataSample()
        sample.set_metainfo(dict(frame=i))
        sample.gt_pose = torch.arange(i, i + 3, dtype=torch.float32)
        sample.ragged = torch.zeros(i + 1)
        return dict(inputs=torch.full((5, 4, 4), float(i)), data_samples=sample)


def _storage(tensor: torch.Tensor) -> int:
    return tensor.untyped_storage().data_ptr()


def _check_values(batch: dict, first: int) -> None:
    for k, (inputs, sample) in enumerate(zip(batch['inputs'], batch['data_samples'])):
        i = first + k
        assert inputs.shape == (5, 4, 4) and torch.all(inputs == i)
        assert sample.gt_pose.tolist() == [i, i + 1, i + 2] and sample.frame == i
        assert sample.ragged.shape == (i + 1,)


def test_main_process_batch_is_pseudo_collates():
    data = [_Samples()[i] for i in range(4)]
    batch = shared_storage_collate(data)
    _check_values(batch, 0)
    reference = pseudo_collate([_Samples()[i] for i in range(4)])
    assert all(torch.equal(a, b) for a, b in zip(batch['inputs'], reference['inputs']))
    assert len({_storage(t) for t in batch['inputs']}) == 4  # no copy outside a worker
    assert FUNCTIONS.get('shared_storage_collate') is shared_storage_collate  # what a dataloader config names


def test_worker_batches_share_one_storage_per_kind():
    loader = DataLoader(_Samples(), batch_size=4, num_workers=2, collate_fn=shared_storage_collate)
    batches = list(loader)
    assert len(batches) == 2
    for b, batch in enumerate(batches):
        _check_values(batch, 4 * b)
        assert len({_storage(t) for t in batch['inputs']}) == 1  # views of one (4, 5, 4, 4) block
        assert len({_storage(s.gt_pose) for s in batch['data_samples']}) == 1  # views of one (4, 3) block
        assert len({_storage(s.ragged) for s in batch['data_samples']}) == 4  # ragged: left as it was
        stacked = torch.stack(batch['inputs'])
        assert stacked[:, 0, 0, 0].tolist() == [4 * b + k for k in range(4)]


def _collate_and_report_sharing(data: list) -> dict:
    """shared_storage_collate, plus whether (in the worker, before sending) each kind's block is already shared."""
    batch = shared_storage_collate(data)
    batch['shared_in_worker'] = (batch['inputs'][0].untyped_storage().is_shared(),
                                 batch['data_samples'][0].gt_pose.untyped_storage().is_shared(),
                                 batch['data_samples'][0].ragged.untyped_storage().is_shared())
    return batch


def test_worker_blocks_are_allocated_in_shared_memory():
    # stacked straight into shared memory, as torch's default_collate does: sending then copies nothing more
    loader = DataLoader(_Samples(), batch_size=4, num_workers=1, collate_fn=_collate_and_report_sharing)
    for b, batch in enumerate(loader):
        _check_values(batch, 4 * b)
        assert batch['shared_in_worker'] == (True, True, False)  # ragged fields are moved by torch when sent
    half = [dict(inputs=torch.full((5, 2, 2), i, dtype=torch.float16), data_samples=ActionDataSample())
            for i in range(3)]
    loader = DataLoader(half, batch_size=3, num_workers=1, collate_fn=shared_storage_collate)
    (batch,) = list(loader)
    assert [t.dtype for t in batch['inputs']] == [torch.float16] * 3  # the dtype is kept
    assert [t[0, 0, 0].item() for t in batch['inputs']] == [0.0, 1.0, 2.0]


def test_inputs_dtype_casts_in_workers_only():
    samples = [dict(inputs=torch.full((5, 2, 2), i + 1 / 3, dtype=torch.float32), data_samples=ActionDataSample())
               for i in range(4)]
    for sample in samples:
        sample['data_samples'].gt_pose = torch.full((3,), 1 / 3)
    collate = functools.partial(shared_storage_collate, inputs_dtype='float16')  # as the Runner builds it
    loader = DataLoader(samples, batch_size=4, num_workers=1, collate_fn=collate)
    (batch,) = list(loader)
    assert len({_storage(t) for t in batch['inputs']}) == 1
    for i, inputs in enumerate(batch['inputs']):
        assert inputs.dtype == torch.float16 and torch.equal(inputs, samples[i]['inputs'].half())
        assert 0 < abs(inputs[0, 0, 0].item() - (i + 1 / 3)) <= 2 ** -9  # rounded, by at most half a float16 step
    assert all(s.gt_pose.dtype == torch.float32 for s in batch['data_samples'])  # targets are not cast
    main = collate(samples)  # num_workers=0: nothing is sent, nothing is cast
    assert [t.dtype for t in main['inputs']] == [torch.float32] * 4
    with pytest.raises(ValueError, match='inputs_dtype'):
        shared_storage_collate(samples, inputs_dtype='int8')
    for bad in (-1, 2.5, '8'):
        with pytest.raises(ValueError, match='pool_blocks must be an integer >= 0'):
            shared_storage_collate(samples, pool_blocks=bad)


class _Numbered(Dataset):
    """Sample i: inputs (3, 8, 8) filled with i, gt_pose (4,) filled with -i; 64 samples."""

    def __len__(self) -> int:
        return 64

    def __getitem__(self, i: int) -> dict:
        sample = ActionDataSample()
        sample.set_metainfo(dict(frame=i))
        sample.gt_pose = torch.full((4,), -float(i))
        return dict(inputs=torch.full((3, 8, 8), float(i)), data_samples=sample)


def _block_inode(batch: dict) -> int:
    """The shared-memory file behind a received batch (its inode: equal for a block the worker reused)."""
    fd, _ = batch['inputs'][0].untyped_storage()._share_fd_cpu_()
    return os.fstat(fd).st_ino


def test_one_block_per_batch_reused_once_freed_and_never_while_held(monkeypatch):
    import torch.multiprocessing.reductions as reductions
    received = []  # the descriptors handed over to this process (torch rebuilds each one with this function)
    rebuild = reductions.rebuild_storage_fd

    def counted(loader: DataLoader):
        batches = iter(loader)  # the worker forks here, with torch's own function to pickle storages with
        monkeypatch.setattr(reductions, 'rebuild_storage_fd', lambda *args: received.append(1) or rebuild(*args))
        yield from batches
        monkeypatch.undo()

    loader = DataLoader(_Numbered(), batch_size=2, num_workers=1, collate_fn=shared_storage_collate)
    kept, view = [], None
    for b, batch in enumerate(counted(loader)):
        first = 2 * b
        assert [t[0, 0, 0].item() for t in batch['inputs']] == [first, first + 1]
        assert [s.gt_pose[0].item() for s in batch['data_samples']] == [-first, -first - 1]
        assert [s.frame for s in batch['data_samples']] == [first, first + 1]
        # inputs and gt_pose: two regions of one storage (one block per batch)
        assert batch['data_samples'][1].gt_pose.untyped_storage().data_ptr() == _storage(batch['inputs'][0])
        if b % 8 == 0:
            kept.append((first, batch))  # held to the end: its block must not be reused
        if b == 5:
            view = batch['data_samples'][0].gt_pose[1:]  # one view of batch 5 alone keeps its block
    # 32 batches: the pool's state and each pooled block crossed once (and a block allocated outside the pool while
    # all 8 were held); the other batches named a block this process keeps mapped (before: 2 hand-overs per batch)
    assert 2 <= len(received) < 32 // 2, len(received)
    for first, batch in kept:
        assert [t.unique().tolist() for t in batch['inputs']] == [[first], [first + 1]]
        assert [s.gt_pose.unique().tolist() for s in batch['data_samples']] == [[-first], [-first - 1]]
    assert view.tolist() == [-10.0] * 3

    received.clear()
    fresh = DataLoader(_Numbered(), batch_size=2, num_workers=1,
                       collate_fn=functools.partial(shared_storage_collate, pool_blocks=0))
    assert len({_block_inode(batch) for batch in counted(fresh)}) == 32 and len(received) == 32  # a block per batch


def test_a_slot_is_released_when_the_last_view_of_its_block_is_freed(monkeypatch):
    from multiprocessing.reduction import ForkingPickler

    import torch.utils.data._utils.worker as worker
    import vpd_mm.datasets.collate as collate
    from vpd_mm.datasets.collate import _pool
    monkeypatch.setattr(worker, '_worker_info', worker.WorkerInfo(id=0, num_workers=1, seed=0, dataset=None))
    monkeypatch.setattr(collate, '_POOL', {})  # this process plays the worker and the receiver, from scratch
    monkeypatch.setattr(collate, '_RECEIVED', {})
    data = [_Numbered()[i] for i in range(3)]
    sent = shared_storage_collate(data, inputs_dtype='float16')
    state, key, slot, generation = sent.release
    assert state is _pool(8).state and state[slot, 0] == 1 and key == _pool(8).key and generation == 1
    rebuild, (rest, storage, regions, samples, release) = sent.__reduce__()
    assert storage is sent.storage  # the first batch of a block carries the block
    # the main process maps the block anew (in this process, torch's cache would hand back the worker's own storage)
    fd, size = storage._share_fd_cpu_()
    received = torch.UntypedStorage._new_shared_fd_cpu(os.dup(fd), size)
    assert received.data_ptr() != storage.data_ptr()
    batch = rebuild(*ForkingPickler.loads(ForkingPickler.dumps((rest, received, regions, samples, release))))
    del sent, storage, received
    assert state[-1, 0] == 1 and state[slot, 1] == 1  # the receiver holds the state and keeps block generation 1
    assert [t.dtype for t in batch['inputs']] == [torch.float16] * 3
    assert [t[2, 7, 7].item() for t in batch['inputs']] == [0.0, 1.0, 2.0]
    assert [s.gt_pose.tolist() for s in batch['data_samples']] == [[-i] * 4 for i in range(3)]
    assert all(s.frame == i and s.gt_pose.dtype == torch.float32 for i, s in enumerate(batch['data_samples']))
    kept_at = batch['inputs'][0].data_ptr()
    view = batch['inputs'][2][1:]
    del batch, data
    assert state[slot, 0] == 1  # a view is still alive
    del view
    assert state[slot, 0] == 0  # free: the worker may overwrite it
    again = shared_storage_collate([_Numbered()[i + 3] for i in range(3)], inputs_dtype='float16')
    # the same size: the freed block is taken again, and neither the block nor the state crosses again
    assert again.release == (None, key, slot, 1)
    rebuild, (rest, block, regions, samples, release) = again.__reduce__()
    assert block is None
    batch = rebuild(*ForkingPickler.loads(ForkingPickler.dumps((rest, block, regions, samples, release))))
    assert batch['inputs'][0].data_ptr() == kept_at  # the receiver's own mapping of the block, kept
    assert [t[0, 0, 0].item() for t in batch['inputs']] == [3.0, 4.0, 5.0]  # the new batch's values
    assert [s.frame for s in batch['data_samples']] == [3, 4, 5]


def test_receiver_drops_the_pools_of_exited_workers_and_refuses_a_block_it_never_got(monkeypatch):
    import subprocess
    import sys

    import vpd_mm.datasets.collate as collate
    from vpd_mm.datasets.collate import _Region, _received_pool, _unstack_batch
    monkeypatch.setattr(collate, '_RECEIVED', {})
    exited = subprocess.Popen([sys.executable, '-c', 'pass'])
    exited.wait()
    state = torch.zeros((9, 2), dtype=torch.int64)
    _received_pool((exited.pid, 'old'), state)
    _received_pool((os.getpid(), 'alive'), state.clone())
    assert set(collate._RECEIVED) == {(os.getpid(), 'alive')}  # the exited worker's pool was dropped
    pool = _received_pool((os.getpid(), 'new'), torch.zeros((9, 2), dtype=torch.int64))
    assert set(collate._RECEIVED) == {(os.getpid(), 'alive'), (os.getpid(), 'new')} and pool.state[-1, 0] == 1
    regions = (_Region('inputs', (2, 3), torch.float32, 0),)
    with pytest.raises(RuntimeError, match=r'block 0 \(generation 1\) of worker \d+, which this process has not '):
        _unstack_batch({}, None, regions, None, (None, (os.getpid(), 'new'), 0, 1))


def test_samples_that_are_not_data_elements_cross_as_they_are():
    data = [dict(inputs=torch.full((2, 3), float(i)), data_samples=dict(label=i, score=torch.tensor([i / 2])))
            for i in range(4)]
    (batch,) = list(DataLoader(data, batch_size=4, num_workers=1, collate_fn=shared_storage_collate))
    assert [t.tolist() for t in batch['inputs']] == [[[float(i)] * 3] * 2 for i in range(4)]
    assert len({_storage(t) for t in batch['inputs']}) == 1
    samples = batch['data_samples']  # pseudo_collate's dict of lists, sent as it is
    assert samples['label'] == [0, 1, 2, 3] and [t.item() for t in samples['score']] == [0.0, 0.5, 1.0, 1.5]
