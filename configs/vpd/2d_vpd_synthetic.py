# 2D-VPD on the tiny synthetic corpus (tools/data/make_synthetic_corpus.py, then crops, flow and the pose2d
# teacher): the smallest real distillation run, used by the tests and `make demo`. Differences from the reference
# recipe of the base, all for CPU speed: ResNet-18; crops resized to 64 x 64 on loading (the method uses 128);
# batches of 16 and 64 frames per epoch; every validation frame; no dataloader workers.
_base_ = ['../_base_/vpd_distill.py']

data_root = 'data/synthetic'
teacher = 'pose2d'
feat_dim = 26
min_score = 0.5
input_size = 64
rgb_mean = (0.485, 0.456, 0.406)
rgb_std = (0.229, 0.224, 0.225)

model = dict(backbone=dict(arch='resnet18', out_dim=feat_dim), head=dict(in_dim=feat_dim))
train_pipeline = [
    dict(type='LoadCropAndFlow', size=input_size),
    dict(type='MirrorCropAndTarget', prob=0.5),
    dict(type='CropColorJitter', brightness=0.2, contrast=0.2, saturation=0.05, hue=0.05),
    dict(type='BackgroundNoise', std=0.05 ** 0.5, rgb_std=rgb_std, prob=0.5, no_mask='skip'),
    dict(type='ResizedCropWithFlow', size=input_size, scale=(0.5, 1.0), ratio=(0.9, 1.1)),
    dict(type='PackDistillInputs'),
]
val_pipeline = [dict(type='LoadCropAndFlow', size=input_size), dict(type='PackDistillInputs')]
dataset_common = dict(data_root=data_root, teacher=teacher, min_score=min_score)
train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False, sampler=dict(num_samples=64),
                        dataset=dict(**dataset_common, pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, num_workers=0, persistent_workers=False,
                      dataset=dict(**dataset_common, max_frames=None, pipeline=val_pipeline))
test_dataloader = val_dataloader

train_cfg = dict(max_epochs=3)
default_hooks = dict(logger=dict(interval=2), checkpoint=dict(interval=1, max_keep_ckpts=2))
