"""vpd_mm: Video Pose Distillation (Hong et al., ICCV 2021) as an OpenMMLab (mmaction2) plugin.

Importing the package applies the stack fixes in :mod:`vpd_mm.compat` and registers every component in
mmaction2's registries (``default_scope='mmaction'``). Configs load it with
``custom_imports = dict(imports=['vpd_mm'], allow_failed_imports=False)``.
"""
from . import compat

compat.apply()

from . import datasets, engine, evaluation, models, teachers  # noqa: E402,F401  (registration)
from .apis import visualization_hook  # noqa: E402,F401  (registration: VPDVisualizationHook, tools/test.py --show-dir)

__version__ = '0.1.0'
