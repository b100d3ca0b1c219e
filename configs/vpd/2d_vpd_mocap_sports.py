# 2D-VPD on the embedded benchmark `mocap_sports` (tools/data/make_mocap_sports.py; MediaPipe as the teacher's pose
# source), sized for `make demo` on a 2-core CPU. Differences from the reference recipe (configs/_base_/vpd_distill.py),
# all for CPU time, none tuned on the student-versus-teacher outcome:
#   - ResNet-18 instead of ResNet-34, crops resized to 64 x 64 on loading (the method uses 128);
#   - 6 epochs of 1,600 frames drawn with replacement (the reference: 20,000 per epoch until the validation loss
#     stops improving), batch 32, AdamW 5e-4 as the reference; no dataloader workers;
#   - validation on a fixed seeded subset of 800 held-out frames each epoch; the best 5-epoch moving average of
#     the validation loss selects the checkpoint, as the reference.
# The test split's videos are never seen (include_test=False).
_base_ = ['../_base_/vpd_distill.py']

data_root = 'data/mocap_sports'
teacher = 'pose2d'
feat_dim = 26
input_size = 64
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
dataset_common = dict(data_root=data_root, teacher=teacher, min_score=0.5)
train_dataloader = dict(batch_size=32, num_workers=0, persistent_workers=False, sampler=dict(num_samples=1600),
                        dataset=dict(**dataset_common, pipeline=train_pipeline))
val_dataloader = dict(batch_size=100, num_workers=0, persistent_workers=False,
                      dataset=dict(**dataset_common, max_frames=800, pipeline=val_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=6)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=1))
