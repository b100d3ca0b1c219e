"""Fixes for the pinned OpenMMLab stack (mmengine 0.10.7, mmaction2 1.2.0, mmpose 1.1.0) on a modern
Python / torch / numpy / setuptools.

Every fix is one function named after the breakage, with the upstream issue it works around, and a test in
``tests/test_compat.py`` that shows the breakage exists without it. :func:`apply` runs them all; it is called
when ``vpd_mm`` is imported, which every config does through
``custom_imports = dict(imports=['vpd_mm'], allow_failed_imports=False)``.

Nothing here turns a safety check off: checkpoints are loaded with ``weights_only=True`` and an explicit
allow-list of the classes mmengine writes (see :func:`load_checkpoint_file`).
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os.path as osp
import pickle
import sys
import types
import urllib.parse
import zipfile
from typing import Any, Callable

import numpy as np
import torch

from .utils.cli import InputError

__all__ = ['apply', 'load_checkpoint_file', 'load_url_checkpoint', 'UnsafeCheckpointError',
           'CheckpointReadError', 'checkpoint_allowlist']

_APPLIED = False


# ---------------------------------------------------------------------------------------------------------------
# 1. mmaction2 1.2.0 wheel lacks mmaction/models/localizers/drn/
#    https://github.com/open-mmlab/mmaction2/issues/2714
# ---------------------------------------------------------------------------------------------------------------
class _MissingDRN:
    """Placeholder for ``mmaction.models.localizers.DRN``, whose source the mmaction2 1.2.0 wheel lacks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ImportError('DRN is missing from the mmaction2 1.2.0 wheel '
                          '(https://github.com/open-mmlab/mmaction2/issues/2714); install mmaction2 from source '
                          'to use it.')


def fix_missing_drn() -> bool:
    """Pre-register the missing ``mmaction.models.localizers.drn`` package so ``import mmaction.models`` works.

    The placeholder is not registered in any registry, so no config can build it by accident.

    Returns:
        bool: True when the fix was needed (the wheel lacks the package).
    """
    name = 'mmaction.models.localizers.drn'
    if name in sys.modules:
        return False
    spec = importlib.util.find_spec('mmaction')
    if spec is None or spec.origin is None:
        return False
    drn_dir = osp.join(osp.dirname(spec.origin), 'models', 'localizers', 'drn')
    if osp.isfile(osp.join(drn_dir, '__init__.py')):
        return False
    package = types.ModuleType(name)
    package.__path__ = []  # a package with no files
    module = types.ModuleType(name + '.drn')
    module.DRN = _MissingDRN  # type: ignore[attr-defined]
    package.drn = module  # type: ignore[attr-defined]
    sys.modules[name] = package
    sys.modules[name + '.drn'] = module
    return True


# ---------------------------------------------------------------------------------------------------------------
# 2. setuptools >= 82 removed pkg_resources, which mmengine 0.10.7 uses to resolve `_base_ = 'mmaction::...'`
#    https://github.com/open-mmlab/mmcv/issues/3325 (fixed on mmengine main, unreleased)
# ---------------------------------------------------------------------------------------------------------------
def _distribution_location(package: str) -> str | None:
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        return None
    return str(dist.locate_file(''))


def is_installed(package: str) -> bool:
    """``mmengine.utils.is_installed`` on ``importlib.metadata`` instead of ``pkg_resources``."""
    if _distribution_location(package) is not None:
        return True
    spec = importlib.util.find_spec(package)
    return spec is not None and spec.origin is not None


def get_installed_path(package: str) -> str:
    """``mmengine.utils.get_installed_path`` on ``importlib.metadata`` instead of ``pkg_resources``.

    Args:
        package (str): distribution name, e.g. ``'mmaction2'``.

    Returns:
        str: the directory of the package's top-level module.
    """
    location = _distribution_location(package)
    if location is None:
        spec = importlib.util.find_spec(package)
        if spec is None:
            raise importlib.metadata.PackageNotFoundError(package)
        if spec.origin is None:
            raise RuntimeError(f'{package} is a namespace package, which is invalid for `get_install_path`')
        return osp.dirname(spec.origin)
    possible_path = osp.join(location, package)
    if osp.exists(possible_path):
        return possible_path
    return osp.join(location, package2module(package))


def package2module(package: str) -> str:
    """``mmengine.utils.package_utils.package2module`` (distribution name -> top-level module) without
    ``pkg_resources``."""
    top_level = importlib.metadata.distribution(package).read_text('top_level.txt')
    if not top_level:
        raise ValueError(f'can not infer the module name of {package}')
    return top_level.split('\n')[0]


def fix_pkg_resources_config_lookup() -> None:
    """Make mmengine resolve ``pkg::path`` configs without ``pkg_resources``."""
    import mmengine.config.config as config_module
    import mmengine.utils as utils_module
    import mmengine.utils.package_utils as package_utils
    for module in (package_utils, utils_module, config_module):
        module.is_installed = is_installed  # type: ignore[attr-defined]
        module.get_installed_path = get_installed_path  # type: ignore[attr-defined]
    package_utils.package2module = package2module  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------------------
# 3. torch >= 2.6 loads with weights_only=True; mmengine 0.10.7 checkpoints carry HistoryBuffer and numpy objects
#    https://github.com/open-mmlab/mmengine/issues/1655 (fix on mmengine main loads with weights_only=False: unsafe)
# ---------------------------------------------------------------------------------------------------------------
class UnsafeCheckpointError(InputError, pickle.UnpicklingError):
    """A checkpoint file holds a pickled global outside :func:`checkpoint_allowlist`."""


class CheckpointReadError(InputError, ValueError):
    """A checkpoint file cannot be read: empty, truncated, corrupt, or not a PyTorch checkpoint."""


def _history_buffer_statistic(owner: Any, name: str) -> Any:
    """Stands in for ``builtins.getattr`` while unpickling: mmengine's ``HistoryBuffer.__getstate__`` stores its
    statistics methods, which pickle as ``getattr(HistoryBuffer, 'mean')``. Only that lookup is allowed."""
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if owner is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(f'builtins.getattr({owner!r}, {name!r}) is not an allowed checkpoint global')


def _empty_bytes(*args: Any) -> bytes:
    """Stands in for ``builtins.bytes`` while unpickling: pickle protocol 2 writes ``b''`` as ``bytes()``, e.g.
    the data of the empty numpy array of a ``HistoryBuffer`` that was never updated. Only that call is allowed."""
    if args:
        raise pickle.UnpicklingError(f'builtins.bytes{args!r} is not an allowed checkpoint global (only bytes())')
    return b''


def checkpoint_allowlist() -> list[Any]:
    """The classes and functions an mmengine checkpoint may pickle, beyond torch's own weights-only set.

    mmengine writes ``message_hub`` (``HistoryBuffer`` objects holding numpy arrays and scalars, and references
    to the buffer's statistics methods; an empty array, from a buffer never updated, pickles ``bytes()``) and
    ``meta`` (numpy scalars, e.g. the seed); mmaction2 and mmpose checkpoints add nothing else.

    Returns:
        list: entries for :func:`torch.serialization.safe_globals` (an object, or ``(object, 'pickled.name')``).
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    from numpy._core.multiarray import _reconstruct, scalar
    allowed: list[Any] = [HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar,
                          (_history_buffer_statistic, 'builtins.getattr'), (_empty_bytes, 'builtins.bytes')]
    # numpy >= 1.25 pickles dtypes as instances of per-type classes (numpy.dtypes.Float64DType, ...).
    allowed += [type(np.dtype(code)) for code in '?bBhHiIlLqQefdgFDGSUVO']
    return allowed


def _allowed_names() -> set[str]:
    names = set()
    for entry in checkpoint_allowlist():
        if isinstance(entry, tuple):
            names.add(entry[1])
        else:
            names.add(f'{entry.__module__}.{entry.__qualname__}')
    return names


def load_checkpoint_file(filename: str, map_location: Any = None) -> Any:
    """Load a local checkpoint with ``weights_only=True`` and :func:`checkpoint_allowlist`.

    Args:
        filename (str): path of a ``.pth`` file.
        map_location: as for :func:`torch.load`.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeCheckpointError: the file pickles a global outside the allow-list; the message is one line that
            starts with the file and names the global.
        CheckpointReadError: the file is empty, truncated, corrupt or not a PyTorch checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if osp.getsize(filename) == 0:
        raise CheckpointReadError(filename, 'not a readable checkpoint: the file is empty')
    with torch.serialization.safe_globals(checkpoint_allowlist()):
        try:
            return torch.load(filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as error:
            reason = _unpickler_reason(str(error))
            if zipfile.is_zipfile(filename) or 'global' in reason.lower():
                raise _refusal(filename, filename, error) from None
            raise CheckpointReadError(filename, f'not a readable checkpoint ({reason}): truncated, corrupt, or not '
                                      'a file written by torch.save') from None
        except (RuntimeError, EOFError, IndexError, KeyError, ValueError, OSError, zipfile.BadZipFile) as error:
            text = ' '.join(str(error).split()) or type(error).__name__
            if isinstance(error, RuntimeError) and 'PytorchStreamReader' not in text:
                raise CheckpointReadError(filename, f'cannot load the checkpoint ({text[:200]})') from None
            raise CheckpointReadError(filename, f'not a readable checkpoint ({type(error).__name__}: {text[:120]}): '
                                      'truncated, corrupt, or not a file written by torch.save') from None


def load_url_checkpoint(url: str, model_dir: str | None = None, map_location: Any = None, progress: bool = True,
                        check_hash: bool = False, file_name: str | None = None) -> Any:
    """``torch.hub.load_state_dict_from_url`` with ``weights_only=True`` and :func:`checkpoint_allowlist`.

    mmengine's ``http(s)://``, ``torchvision://`` and ``open-mmlab://`` loaders call
    ``torch.hub.load_state_dict_from_url``, whose default is ``weights_only=False``: a downloaded file would be
    unpickled with no restriction. Same arguments as that function.

    Raises:
        UnsafeCheckpointError: the downloaded file pickles a global outside the allow-list.
    """
    with torch.serialization.safe_globals(checkpoint_allowlist()):
        try:
            return torch.hub.load_state_dict_from_url(url, model_dir=model_dir, map_location=map_location,
                                                      progress=progress, check_hash=check_hash,
                                                      file_name=file_name, weights_only=True)
        except pickle.UnpicklingError as error:
            folder = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
            cached = osp.join(folder, file_name or osp.basename(urllib.parse.urlparse(url).path))
            raise _refusal(url, cached, error) from None


def _refusal(name: str, path: str, error: Exception) -> UnsafeCheckpointError:
    unsafe = _unsafe_globals(path)
    if unsafe:
        problem = f'it pickles global(s) {", ".join(unsafe)} that are not on vpd_mm.compat.checkpoint_allowlist()'
    else:
        problem = f'the restricted unpickler refused it ({_unpickler_reason(str(error))})'
    return UnsafeCheckpointError(f'{name}: refusing to load the checkpoint: {problem}; only load files you trust, '
                                 'and re-save them as a plain state_dict')


def _unpickler_reason(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if 'WeightsUnpickler error:' in line:
            rest = line.split('WeightsUnpickler error:', 1)[1].strip()
            return rest or (lines[index + 1] if index + 1 < len(lines) else 'unknown')
        if 'GLOBAL' in line:  # torch's legacy-format path: "Trying to load unsupported GLOBAL x.y whose ..."
            return line
    return lines[0] if lines else 'unknown'


def _unsafe_globals(filename: str) -> list[str]:
    allowed = _allowed_names()
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception:  # not a zip checkpoint: the torch message is all we have
        return []
    return [name for name in found if name not in allowed]


def fix_checkpoint_weights_only() -> None:
    """Route mmengine's local-file checkpoint loading (resume, ``load_from``, ``tools/test.py CKPT``,
    ``init_cfg=Pretrained``, mmpose ``init_model``) through :func:`load_checkpoint_file`, and its URL loading
    (``http(s)://``, ``torchvision://``, ``open-mmlab://``) through :func:`load_url_checkpoint`."""
    import mmengine.runner.checkpoint as checkpoint_module
    checkpoint_module.CheckpointLoader.register_scheme(prefixes='', loader=load_checkpoint_file, force=True)
    checkpoint_module.load_url = load_url_checkpoint  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------------------
# 4. numpy 2 removed np.Inf, np.trapz and np.in1d, still used by mmaction2 1.2.0:
#    PoseCompact / PoseCompact-like crops (np.Inf), utils.frame_extract(short_side=...) (np.Inf),
#    ANetMetric AR@AN (np.trapz), the multimodal retrieval metric (np.in1d).
#    No upstream issue tracks it (mmaction2 is unmaintained since 1.2.0); the removal is numpy's NEP 52:
#    https://numpy.org/neps/nep-0052-python-api-cleanup.html
# ---------------------------------------------------------------------------------------------------------------
class _Numpy1Aliases(types.ModuleType):
    """numpy, plus the numpy-1 aliases mmaction2 1.2.0 still uses; installed as ``np`` in those modules only."""

    Inf = np.inf
    trapz = staticmethod(getattr(np, 'trapezoid', None) or np.trapz)  # type: ignore[attr-defined]
    in1d = staticmethod(lambda a, b, *args, **kwargs: np.isin(np.ravel(a), b, *args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


_NUMPY2_MODULES = (
    'mmaction.datasets.transforms.pose_transforms',
    'mmaction.utils.misc',
    'mmaction.evaluation.functional.accuracy',
    'mmaction.evaluation.metrics.multimodal_metric',
)


def fix_numpy2_aliases() -> list[str]:
    """Give the mmaction2 modules that use removed numpy aliases a numpy that has them.

    numpy itself is left unchanged. Returns:
        list[str]: the modules patched.
    """
    proxy = _Numpy1Aliases('numpy')
    patched = []
    for name in _NUMPY2_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional dependency of that module is missing: nothing calls it then
            continue
        if getattr(module, 'np', None) is np:
            module.np = proxy  # type: ignore[attr-defined]
            patched.append(name)
    return patched


# ---------------------------------------------------------------------------------------------------------------
# 5. mmengine's `--launcher pytorch` assumes CUDA: `_init_dist_pytorch` calls torch.cuda.set_device and the Runner
#    wraps the model in DDP with device_ids=[LOCAL_RANK], so CPU-only data-parallel training (gloo) fails.
#    No upstream issue; the same fix was made to mmdetection for CPU training in
#    https://github.com/openvinotoolkit/mmdetection/pull/77
# ---------------------------------------------------------------------------------------------------------------
def fix_cpu_distributed() -> None:
    """On a machine without CUDA, ``--launcher pytorch`` initialises gloo and wraps the model in CPU DDP."""
    import mmengine.dist.utils as dist_utils
    from mmengine.model.wrappers.distributed import MMDistributedDataParallel

    original_init_dist = dist_utils._init_dist_pytorch
    if getattr(original_init_dist, '_vpd_mm_cpu', False):
        return

    def init_dist_pytorch(backend: str, init_backend: str = 'torch', **kwargs: Any) -> None:
        if torch.cuda.is_available() or init_backend != 'torch':
            return original_init_dist(backend, init_backend=init_backend, **kwargs)
        if backend == 'nccl':
            backend = 'gloo'  # nccl needs CUDA
        torch.distributed.init_process_group(backend=backend, **kwargs)

    init_dist_pytorch._vpd_mm_cpu = True  # type: ignore[attr-defined]
    dist_utils._init_dist_pytorch = init_dist_pytorch

    original_ddp_init = MMDistributedDataParallel.__init__

    def ddp_init(self: Any, module: torch.nn.Module, detect_anomalous_params: bool = False, **kwargs: Any) -> None:
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if on_cpu and not torch.cuda.is_available():
            kwargs['device_ids'] = None  # DDP over CPU modules takes no device ids
            kwargs.pop('output_device', None)
        original_ddp_init(self, module=module, detect_anomalous_params=detect_anomalous_params, **kwargs)

    MMDistributedDataParallel.__init__ = ddp_init  # type: ignore[method-assign]


_FIXES: tuple[Callable[[], Any], ...] = (
    fix_missing_drn,
    fix_pkg_resources_config_lookup,
    fix_checkpoint_weights_only,
    fix_numpy2_aliases,
    fix_cpu_distributed,
)


def apply() -> None:
    """Apply every fix once (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    for fix in _FIXES:
        fix()
    _APPLIED = True
