# Runtime shared by the VIPE* configs: mmaction2's default runtime, vpd_mm loaded, no best-checkpoint selection
# (VIPE* validation sets are held-out clips that must not steer training).
_base_ = ['../../_base_/import_vpd_mm.py', 'mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['vpd_mm'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=10, save_best=None, max_keep_ckpts=2))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
# Every checkpoint carries the model dict as JSON (meta['model_spec']), so tools/extract_teacher.py rebuilds VIPE*
# from data, never by executing the config text stored in the checkpoint.
custom_hooks = [dict(type='ModelSpecHook')]
