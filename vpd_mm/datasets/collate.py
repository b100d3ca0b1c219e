"""A collate function whose batches cross from DataLoader workers to the main process as one shared-memory block,
reused once the main process has let go of it, and kept mapped there so that only its name crosses again."""
from __future__ import annotations

import functools
import gc
import os
import weakref
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS
from mmengine.structures import BaseDataElement

__all__ = ['shared_storage_collate']

_ALIGN = 64  # byte alignment of each kind's region in the block


@dataclass(frozen=True)
class _Region:
    """Where one kind of the batch lies in the block: ``key`` ('inputs' or a data sample field), the (N, ...)
    ``shape``, ``dtype`` and byte ``offset``."""
    key: str
    shape: tuple[int, ...]
    dtype: torch.dtype
    offset: int

    def view(self, storage: torch.UntypedStorage) -> torch.Tensor:
        """The (N, ...) tensor of this region of ``storage``."""
        return torch.empty(0, dtype=self.dtype).set_(storage, self.offset // self.dtype.itemsize, self.shape)


def _release(state: torch.Tensor, slot: int) -> None:
    state[slot, 0] = 0


class _BlockPool:
    """The shared-memory blocks of one worker process, each reused once the main process has freed its batch.

    ``state`` (slots + 1, 2) int64 is itself shared with the main process. ``state[s, 0]`` is 1 from when slot s's
    block is sent until the main process frees that batch (a finaliser on the batch's storage there, which runs when
    the last tensor viewing it is freed); a block is taken only when it is 0, so a batch the main process still
    holds (and every view of it) is never overwritten, and when every slot is in use a fresh block is allocated
    outside the pool. ``state[s, 1]`` is the generation of slot s's block that the main process has mapped and
    kept: a block is sent (its file descriptor handed over) only until then, and afterwards a batch names it by
    pool key, slot and generation. ``state[slots, 0]`` is 1 once the main process holds ``state`` itself, which is
    then no longer sent. The pool keeps its blocks mapped: at most ``slots`` blocks of shared memory per worker.
    """

    def __init__(self, slots: int) -> None:
        self.state = torch.zeros((slots + 1, 2), dtype=torch.int64).share_memory_()
        self._state = self.state.numpy()  # the same memory, read without a tensor operation per slot
        self.blocks: list[torch.UntypedStorage | None] = [None] * slots
        self.generations = [0] * slots
        self.key = (os.getpid(), os.urandom(8).hex())

    def take(self, nbytes: int) -> tuple[torch.UntypedStorage, int | None]:
        """A block of ``nbytes`` and its slot (None: outside the pool, not reused)."""
        free = [slot for slot in range(len(self.blocks)) if self._state[slot, 0] == 0]
        slot = next((s for s in free if self.blocks[s] is not None and self.blocks[s].nbytes() == nbytes),
                    next((s for s in free if self.blocks[s] is None), free[0] if free else None))
        if slot is None:
            return torch.UntypedStorage._new_shared(nbytes), None
        if self.blocks[slot] is None or self.blocks[slot].nbytes() != nbytes:
            self.blocks[slot] = torch.UntypedStorage._new_shared(nbytes)
            self.generations[slot] += 1
        self._state[slot, 0] = 1
        return self.blocks[slot], slot

    def sent(self, slot: int) -> tuple[bool, tuple]:
        """What a batch in ``slot`` carries: whether the block itself is sent (until the main process keeps it
        mapped) and the release handle (``state``, None once the main process holds it; the pool's key; the slot;
        the block's generation)."""
        generation = self.generations[slot]
        send_block = bool(self._state[slot, 1] != generation)
        return send_block, (None if self._state[-1, 0] else self.state, self.key, slot, generation)


class _ReceivedPool:
    """The main process's side of one worker's pool: its shared ``state`` and, by slot, the block it keeps mapped
    (generation, the block as a uint8 array)."""

    def __init__(self, state: torch.Tensor) -> None:
        self.state = state
        self.blocks: dict[int, tuple[int, np.ndarray]] = {}


_RECEIVED: dict[tuple[int, str], _ReceivedPool] = {}  # by pool key (worker pid, token)


def _received_pool(key: tuple[int, str], state: torch.Tensor | None) -> _ReceivedPool | None:
    """This process's side of the pool ``key``: made when its ``state`` first arrives (and marked as held, so that
    the worker stops sending it); None when it never arrived. Pools of workers that have exited are dropped (their
    blocks unmapped once no batch views them) when a new pool arrives."""
    if state is not None and key not in _RECEIVED:
        for pid, token in list(_RECEIVED):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                del _RECEIVED[pid, token]
            except PermissionError:
                pass
        _RECEIVED[key] = _ReceivedPool(state)
        state[-1, 0] = 1
    return _RECEIVED.get(key)


@functools.lru_cache(maxsize=1)
def _finalizers_follow_storage() -> bool:
    """Whether a finaliser on the Python object of a storage made by ``torch.from_numpy`` (a batch's storage over a
    kept block) runs only when the storage itself is freed (torch keeps that object alive while any tensor views
    the storage); without it blocks are never reused."""
    fired: list[int] = []
    storage = torch.from_numpy(np.zeros(64, np.uint8)).untyped_storage()
    view = torch.empty(0, dtype=torch.uint8).set_(storage, 8, (8,))
    weakref.finalize(storage, fired.append, 1)
    del storage
    gc.collect()
    early = bool(fired)
    del view
    gc.collect()
    return not early and fired == [1]


_POOL: dict[int, _BlockPool] = {}  # by process id: a forked child never takes its parent's pool


def _pool(slots: int) -> _BlockPool:
    """This process's pool of ``slots`` blocks (a forked child drops the one it inherited)."""
    pid = os.getpid()
    if pid not in _POOL or len(_POOL[pid].blocks) != slots:
        _POOL.clear()
        _POOL[pid] = _BlockPool(slots)
    return _POOL[pid]


def _unstack_batch(batch: dict, block: torch.UntypedStorage | None, regions: tuple[_Region, ...],
                   samples: list | None, release: tuple | None) -> dict[str, Any]:
    """Rebuild, on arrival, what a :class:`_StackedBatch` sent: ``inputs`` and each data sample field of
    ``regions`` become views of their region of the block again. With ``release`` (a pooled block: state or None,
    pool key, slot, generation) the views are of a storage of this batch's own over the block this process keeps
    mapped (``block`` is sent only until then), and freeing that storage frees the worker's slot."""
    batch = dict(batch)
    storage = block
    if release is not None and _finalizers_follow_storage():  # else the slot stays taken: never overwritten
        state, key, slot, generation = release
        pool = _received_pool(key, state)
        if pool is not None and block is not None:
            pool.blocks[slot] = (generation, torch.empty(0, dtype=torch.uint8).set_(block, 0, (block.nbytes(),))
                                 .numpy())
            pool.state[slot, 1] = generation  # the worker sends this block no more
        kept = pool.blocks.get(slot) if pool is not None else None
        if kept is None or kept[0] != generation:
            raise RuntimeError(f'shared_storage_collate: a batch names block {slot} (generation {generation}) of '
                               f'worker {key[0]}, which this process has not received: a worker\'s batches must all '
                               'go to one process')
        storage = torch.from_numpy(kept[1]).untyped_storage()
        weakref.finalize(storage, _release, pool.state, slot)
    if samples is not None:
        rebuilt = []
        for cls, state in samples:
            sample = cls.__new__(cls)
            sample.__dict__.update(state)
            rebuilt.append(sample)
        batch['data_samples'] = rebuilt
    for region in regions:
        views = region.view(storage).unbind(0)
        if region.key == 'inputs':
            batch['inputs'] = list(views)
        else:
            for sample, view in zip(batch['data_samples'], views):
                sample.set_field(view, region.key, field_type='data')
    return batch


class _StackedBatch(dict):
    """A batch collated in a worker: the dict the main process gets (``inputs`` and the stacked data sample fields
    are views of one shared block), pickled as the per-sample rest plus the block, or, for a pooled block the main
    process already keeps mapped, plus its name in the pool.

    Pickled as a plain dict, every view would carry its storage on its own, and torch hands a storage over as a file
    descriptor through a socket round trip (``multiprocessing.resource_sharer``, served by a thread of the busy
    worker): 3N of them for a batch of N distillation samples (input, ``gt_pose``, ``gt_motion``) instead of none.
    """

    def __init__(self, batch: dict, storage: torch.UntypedStorage, regions: tuple[_Region, ...],
                 release: tuple | None, send_block: bool = True) -> None:
        super().__init__(batch)
        self.storage, self.regions, self.release, self.send_block = storage, regions, release, send_block

    def __reduce__(self) -> tuple:
        stacked = {region.key for region in self.regions}
        fields = stacked - {'inputs'}  # stacked data sample fields: the samples are data elements
        rest = {k: v for k, v in self.items() if k not in stacked and not (fields and k == 'data_samples')}
        samples = None
        if fields:
            samples = []
            for sample in self['data_samples']:
                state = {k: v for k, v in sample.__dict__.items() if k not in fields}
                state['_data_fields'] = set(sample.__dict__['_data_fields']) - fields
                samples.append((type(sample), state))
        return _unstack_batch, (rest, self.storage if self.send_block else None, self.regions, samples, self.release)


def _uniform(tensors: list) -> bool:
    """Whether ``tensors`` are CPU tensors of one shape and dtype (so they stack)."""
    first = tensors[0] if tensors else None
    return isinstance(first, torch.Tensor) and first.device.type == 'cpu' and all(
        isinstance(t, torch.Tensor) and t.device == first.device and t.shape == first.shape
        and t.dtype == first.dtype for t in tensors)


# mmengine's own registry, where its pseudo_collate / default_collate live: the Runner looks collate functions up
# there (mmaction2's child FUNCTION registry names an import location that does not exist)
@FUNCTIONS.register_module()
def shared_storage_collate(data_batch: Sequence[dict], inputs_dtype: str | None = None,
                           pool_blocks: int = 8) -> dict[str, Any]:
    """mmengine's ``pseudo_collate`` (``inputs`` a list of (C, H, W) tensors, ``data_samples`` a list), with the
    batch's tensors moved into one shared-memory block: ``inputs[i]`` is a view of its (N, C, H, W) region and each
    tensor field of the data samples (e.g. ``gt_pose`` (d,)) a view of its (N, d) region.

    The values are unchanged; what changes is the transfer. A DataLoader worker sends every tensor to the main
    process through a shared-memory segment and file descriptor of its own, so a batch of N distillation samples
    (input, ``gt_pose``, ``gt_motion``) costs 3N segments and descriptor hand-overs with ``pseudo_collate``. Here
    the stacking copy writes the batch into one block (the views are rebuilt on arrival), and each worker reuses its
    blocks once the main process has freed every tensor viewing them, instead of mapping and zero-filling new pages
    for every batch. The main process keeps each pooled block mapped after its first batch, so later batches in it
    cross as a name (pool, slot, generation): no descriptor hand-over, no mapping per batch.
    ``benchmarks/distill_throughput.py`` prints the real pipeline's frames/s and this ceiling (a dataset of ready
    samples) per worker count; ``--collate pseudo_collate`` times mmengine's. Use it in a dataloader config as
    ``collate_fn=dict(type='shared_storage_collate')``. Tensors of differing shapes are left as they are; outside
    a DataLoader worker (``num_workers=0``) the batch is ``pseudo_collate``'s, since nothing is sent.

    A reused block is overwritten only after the main process has freed it, so keeping batches (or tensors of
    them) is safe; tensors of a batch handed on to a third process are not followed there.

    Args:
        data_batch (Sequence[dict]): the samples, each with ``inputs`` and ``data_samples``.
        inputs_dtype (str, optional): in a worker, store the stacked inputs as this floating dtype, e.g.
            ``'float16'``: the cast happens in the copy made anyway and halves what is sent (a 5 x 128 x 128
            distillation input: 327 KB -> 164 KB), pinned and moved to the GPU; the data preprocessor normalises
            in float32 either way. float16 rounds a grey level (< 256) by at most 1/8 and flow (< 32 px) by at most
            1/64 px, far below the JPEG's and the flow codes' (0.16 px) own steps. Default None: keep the dtype.
            Without workers nothing is cast.
        pool_blocks (int): blocks each worker keeps in shared memory and reuses once the main process has freed
            them (default 8: its batches in flight, those the main process holds and recently freed ones; at
            batch 100 of 5 x 128 x 128 float16 inputs a block is 16.4 MB; the main process maps the same pages, no
            more memory). Pools of exited workers are let go when a new pool arrives. 0 allocates a new block per
            batch, as torch does, for a small ``/dev/shm``.
    """
    dtype = None
    if inputs_dtype is not None:
        dtype = getattr(torch, str(inputs_dtype), None)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise ValueError(f'shared_storage_collate: inputs_dtype must name a floating torch dtype, '
                             f'got {inputs_dtype!r}')
    if isinstance(pool_blocks, bool) or not isinstance(pool_blocks, int) or pool_blocks < 0:
        raise ValueError(f'shared_storage_collate: pool_blocks must be an integer >= 0, got {pool_blocks!r}')
    batch = pseudo_collate(data_batch)
    if not isinstance(batch, dict) or torch.utils.data.get_worker_info() is None:
        return batch  # in the main process (num_workers=0) there is no transfer to save: skip the copy
    kinds: list[tuple[str, list[torch.Tensor], torch.dtype]] = []
    inputs = batch.get('inputs')
    if isinstance(inputs, list) and _uniform(inputs):
        kinds.append(('inputs', inputs, dtype or inputs[0].dtype))
    samples = batch.get('data_samples')
    if isinstance(samples, list) and samples and all(isinstance(s, BaseDataElement) for s in samples):
        for key in samples[0].keys():
            values = [s.get(key) for s in samples]
            if _uniform(values):
                kinds.append((key, values, values[0].dtype))
    if not kinds:
        return batch
    regions, nbytes = [], 0
    for key, tensors, kind_dtype in kinds:
        regions.append(_Region(key, (len(tensors), *tensors[0].shape), kind_dtype, nbytes))
        size = len(tensors) * tensors[0].numel() * kind_dtype.itemsize
        nbytes += -(-size // _ALIGN) * _ALIGN
    if pool_blocks > 0 and _finalizers_follow_storage():
        pool = _pool(pool_blocks)
        storage, slot = pool.take(nbytes)
        send_block, release = pool.sent(slot) if slot is not None else (True, None)
    else:
        storage, send_block, release = torch.UntypedStorage._new_shared(nbytes), True, None
    for region, (key, tensors, _) in zip(regions, kinds):
        block = region.view(storage)
        if block.dtype == tensors[0].dtype:
            torch.stack(tensors, out=block)
        else:  # cast in the copy; one copy per tensor is faster than torch.stack's casting path
            for row, tensor in zip(block, tensors):
                row.copy_(tensor)
        if key == 'inputs':
            batch['inputs'] = list(block.unbind(0))
        else:
            for sample, view in zip(samples, block.unbind(0)):
                sample.set_field(view, key, field_type='data')
    return _StackedBatch(batch, storage, tuple(regions), release, send_block)
