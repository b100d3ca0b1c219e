"""shared_storage_collate: the same batch as mmengine's pseudo_collate, but inside a DataLoader worker each kind of
tensor of the batch lives in one storage (one shared-memory block to send instead of one per sample)."""
from __future__ import annotations

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
