# Imports vpd_mm while mmengine parses a config, before it resolves the `mmaction::` base that follows this one.
#
# mmengine 0.10.7 finds `mmaction::...` bases with pkg_resources, which setuptools >= 82 no longer ships, and it
# resolves every base before it runs a config's `custom_imports`; so a fresh interpreter (mmaction2's or mim's
# tools/train.py / test.py, `Config.fromfile`) failed with `ModuleNotFoundError: pkg_resources` before
# `custom_imports = dict(imports=['vpd_mm'])` could apply vpd_mm.compat's fix. mmengine reads the bases of a config
# in order and runs each base file's code when it reads it, so a config that lists this file first, e.g.
#     _base_ = ['../_base_/import_vpd_mm.py', 'mmaction::_base_/default_runtime.py']
# has the fix in place when the `mmaction::` base is resolved. Defines no config keys (mmengine drops modules).
# `_base_` comes first: a config file whose first statement is an import would be read as a lazy-import config.
_base_ = []
import vpd_mm  # noqa: E402,F401  (vpd_mm.compat.apply(); registration)
