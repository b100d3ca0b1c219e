"""shared_storage_collate: the same batch as mmengine's pseudo_collate, but inside a DataLoader worker each kind of
tensor of the batch lives in one storage (one shared-memory block to send instead of one per sample)."""
from __future__ import annotations

import functools

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
