# ST-GCN (COCO-17 2D joints) on the tiny synthetic corpus: the smallest real training recipe of the project.
# Used by the tests (train / resume / distributed / test) and `make demo`. It inherits mmaction2's own recipe.
#
# Data: python tools/data/export_pose_dataset.py data/synthetic --out data/synthetic/pose_dataset.pkl
_base_ = ['../_base_/import_vpd_mm.py', 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py']
custom_imports = dict(imports=['vpd_mm'], allow_failed_imports=False)

data_root = 'data/synthetic'
ann_file = 'pose_dataset.pkl'
clip_len = 16

model = dict(
    backbone=dict(base_channels=16, num_stages=4, inflate_stages=[3], down_stages=[3], num_person=1),
    cls_head=dict(num_classes=3, in_channels=32))

train_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=clip_len, num_clips=1, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(times=1, dataset=dict(data_root=data_root, ann_file=ann_file, split='train',
                                       pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file=ann_file, split='val', pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file=ann_file, split='test', pipeline=test_pipeline))

train_cfg = dict(max_epochs=3)
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0, T_max=3, by_epoch=True, convert_to_iter_based=True)]
optim_wrapper = dict(optimizer=dict(lr=0.05))
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=3))
