"""Checkpoints that produce numbers: weights that fit the model exactly, and models rebuilt from data, never code.

mmengine's ``Runner`` loads ``load_from`` / ``--resume`` / ``tools/test.py CKPT`` with ``strict=False`` and only
logs missing, unexpected or mis-shaped weights, so a checkpoint of another model evaluates a partly random model.
:class:`StrictCheckpointHook` (added by ``tools/train.py`` and ``tools/test.py``) refuses such a checkpoint with a
one-line :class:`CheckpointMismatchError` naming the file and the first keys; :func:`load_weights` does the same
for the loaders outside the Runner (VIPE*, the student).

A checkpoint saved by the Runner carries the training config as Python text (``meta['cfg']``); executing it would
run whatever the file holds. :class:`ModelSpecHook` stores the model dict as JSON (``meta['model_spec']``), and
:func:`read_model_spec` reads it back as plain data checked against an allow-list of model types.
"""
from __future__ import annotations

import glob
import json
import os.path as osp
import re
from typing import Any, Collection, Mapping, Optional

import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ..utils.cli import InputError

__all__ = ['CheckpointMismatchError', 'MODEL_SPEC_KEY', 'checkpoint_mismatch', 'load_weights', 'latest_checkpoint',
           'StrictCheckpointHook', 'ModelSpecHook', 'model_spec_json', 'read_model_spec']

MODEL_SPEC_KEY = 'model_spec'
_SCALARS = (bool, int, float, type(None))


class CheckpointMismatchError(InputError, ValueError):
    """A checkpoint does not fit the model, or holds no usable model description; the message is one line
    that starts with the file."""


def _first(keys: list[str], count: int = 3) -> str:
    more = f', ... ({len(keys)} in all)' if len(keys) > count else ''
    return ', '.join(keys[:count]) + more


def checkpoint_mismatch(model: torch.nn.Module, state_dict: Mapping[str, Any]) -> Optional[str]:
    """How ``state_dict`` differs from ``model.state_dict()``, in one line; None when it fits exactly.

    Missing ``num_batches_tracked`` counters of batch norms are ignored, as mmengine and torch's BN loading do.

    Args:
        model (nn.Module): the model the weights are for.
        state_dict (Mapping): the weights (keys without a ``module.`` prefix).

    Returns:
        str | None: e.g. ``'missing keys: a.weight, a.bias; shape mismatch: fc.weight (3, 8) in the checkpoint,
        (5, 8) in the model'``.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in state_dict if k not in expected]
    shapes = [f'{k} {tuple(v.shape)} in the checkpoint, {tuple(expected[k].shape)} in the model'
              for k, v in state_dict.items()
              if k in expected and tuple(getattr(v, 'shape', ())) != tuple(expected[k].shape)]
    problems = [f'{what}: {_first(keys)}' for what, keys in
                (('missing keys', missing), ('unexpected keys', unexpected), ('shape mismatch', shapes)) if keys]
    return '; '.join(problems) or None


def load_weights(model: torch.nn.Module, state_dict: Mapping[str, Any], filename: str) -> None:
    """Load weights that fit ``model`` exactly (keys and shapes).

    Raises:
        CheckpointMismatchError: ``'<filename>: the weights do not fit <Model>: ...'``; nothing is loaded.
    """
    if not isinstance(state_dict, Mapping):
        raise CheckpointMismatchError(f'{filename}: no state dict (got {type(state_dict).__name__})')
    problem = checkpoint_mismatch(model, state_dict)
    if problem:
        raise CheckpointMismatchError(f'{filename}: the weights do not fit {type(model).__name__}: {problem}')
    model.load_state_dict(dict(state_dict), strict=False)  # only num_batches_tracked may be missing


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` continues from: the file that ``work_dir/last_checkpoint`` names, else the
    ``epoch_N.pth`` / ``iter_N.pth`` in ``work_dir`` with the highest N; None when there is none.

    mmengine's ``CheckpointHook`` saves the checkpoint, then rewrites ``last_checkpoint`` in place (truncate, then
    write), so a run killed in between leaves it empty, and mmengine's own auto-resume then fails on the path
    ``''``. The checkpoint it was about to name is complete by then, and is the newest by N. A ``last_checkpoint``
    naming a file that no longer exists (a moved work dir) falls back the same way.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named and osp.isfile(named):
            return named
        if named and osp.isfile(osp.join(work_dir, osp.basename(named))):
            return osp.join(work_dir, osp.basename(named))
    numbered = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = re.fullmatch(r'(epoch|iter)_(\d+)\.pth', osp.basename(path))
        if match:
            numbered.append((int(match.group(2)), path))
    return max(numbered)[1] if numbered else None


@HOOKS.register_module()
class StrictCheckpointHook(Hook):
    """Refuse a checkpoint the Runner loads (``load_from``, resume) unless its weights fit the model exactly.

    Runs in ``after_load_checkpoint``, before mmengine copies the weights into the model, after the hooks that
    rewrite the checkpoint (e.g. ``EMAHook``). Keys are compared after stripping a ``module.`` prefix, as the
    Runner does.

    Args:
        filename (str, optional): the file named in the error (default: ``load_from`` of the config, else the
            work dir: the Runner does not tell hooks which file it resumes from).
        hint (str): appended to the error, e.g. how to allow partial loading. Defaults to ``''``.
    """

    priority = 'VERY_LOW'

    def __init__(self, filename: Optional[str] = None, hint: str = '') -> None:
        self.filename, self.hint = filename, hint

    def after_load_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        """Raise :class:`CheckpointMismatchError` when the weights do not fit ``runner.model``."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        name = self.filename or runner.cfg.get('load_from') or f'a checkpoint in {runner.work_dir}'
        weights = checkpoint.get('state_dict', checkpoint)
        if not isinstance(weights, Mapping):
            raise CheckpointMismatchError(f'{name}: no state dict (got {type(weights).__name__})')
        weights = {re.sub(r'^module\.', '', k): v for k, v in weights.items()}
        problem = checkpoint_mismatch(model, weights)
        if problem:
            raise CheckpointMismatchError(f'{name}: the weights do not fit {type(model).__name__}: {problem}'
                                          + (f'; {self.hint}' if self.hint else ''))


def model_spec_json(model_cfg: Mapping[str, Any]) -> str:
    """The model dict of a config as JSON text (plain data: the value of ``meta['model_spec']``).

    Raises:
        TypeError: the dict holds something JSON cannot represent.
    """
    to_dict = getattr(model_cfg, 'to_dict', None)
    return json.dumps(to_dict() if to_dict else dict(model_cfg), sort_keys=True)


@HOOKS.register_module()
class ModelSpecHook(Hook):
    """Store the config's model dict as JSON in every saved checkpoint (``meta['model_spec']``), so the model can
    be rebuilt without the config file and without executing the Python text of ``meta['cfg']``."""

    priority = 'NORMAL'

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        """Add ``meta['model_spec']``."""
        checkpoint.setdefault('meta', {})[MODEL_SPEC_KEY] = model_spec_json(runner.cfg.model)


def read_model_spec(checkpoint: Mapping[str, Any], filename: str, allowed_types: Collection[str]) -> dict:
    """The constructor arguments stored by :class:`ModelSpecHook`, checked as plain data.

    The text is parsed as JSON (never executed); the result must be a dict whose ``type`` is in
    ``allowed_types`` and whose other values are numbers, booleans or None (no nested configs, so no other
    registered type can be built from it).

    Args:
        checkpoint (Mapping): the loaded checkpoint.
        filename (str): the file, for the error messages.
        allowed_types (Collection[str]): registered model types that may be built.

    Returns:
        dict: ``type`` and keyword arguments, for ``MODELS.build``.

    Raises:
        CheckpointMismatchError: no description, not JSON, or not allowed (one line naming the file).
    """
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    text = meta.get(MODEL_SPEC_KEY) if isinstance(meta, Mapping) else None
    if not isinstance(text, str):
        raise CheckpointMismatchError(
            f"{filename}: no data-only model description (meta['{MODEL_SPEC_KEY}']) in the checkpoint; the Python "
            "text in meta['cfg'] is never executed: pass the training config")
    try:
        spec = json.loads(text)
    except ValueError as error:
        raise CheckpointMismatchError(f"{filename}: meta['{MODEL_SPEC_KEY}'] is not JSON ({error})") from None
    if not isinstance(spec, dict) or spec.get('type') not in allowed_types:
        found = spec.get('type') if isinstance(spec, dict) else type(spec).__name__
        raise CheckpointMismatchError(f"{filename}: meta['{MODEL_SPEC_KEY}'] describes {found!r}, expected one of "
                                      f'{sorted(allowed_types)}')
    bad = [key for key, value in spec.items() if key != 'type' and not isinstance(value, _SCALARS)]
    if bad:
        raise CheckpointMismatchError(f"{filename}: meta['{MODEL_SPEC_KEY}'] holds non-scalar arguments "
                                      f'{_first(sorted(bad))}; pass the training config')
    return spec
