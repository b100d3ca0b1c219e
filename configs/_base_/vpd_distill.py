# VPD distillation (paper section 3; spec/reference_vpd.md section 3), the base of
# configs/vpd/<teacher>_vpd_<sport>.py.
# Children set data_root, teacher, feat_dim, min_score, the per-sport RGB mean/std and re-state the dicts that use
# them (old-style configs do not re-evaluate a base's expressions).
#
#   student F   VPDStudent: torchvision ResNet-34, 5 channels (RGB + flow), 128 x 128, output d = teacher dim,
#               random init (the reference's default; `pretrained=PATH` loads torchvision ImageNet weights)
#   decoder D   PoseMotionHead: d -> 128 -> 128 -> 2d predicting [p_t, p_t - p_{t-1}], squared error, equal weights
#   data        VPDFrameDataset: frames with teacher score >= threshold and a previous frame, test videos excluded,
#               seeded 80/20 frame split; an epoch = 20,000 frames drawn with replacement (ReplacementSampler);
#               validation: a fixed seeded subset of 4,000 val frames, not augmented
#   schedule    AdamW lr 5e-4 (weight decay 0.01), constant, batch 100, 1000 epochs, AMP when CUDA is available
#   selection   DistillLossMetric -> val/loss; LossMovingAverageHook -> val/loss_ma5 (last 5 epochs);
#               CheckpointHook keeps the best val/loss_ma5 (best_val_loss_ma5_epoch_N.pth) and the last 2 epochs
#
# Ablations of Table 2 (files in configs/vpd/ablations/, or the same switches with --cfg-options):
#   without flow     model.backbone.in_channels=3, model.data_preprocessor.mean/std with 3 entries,
#                    train_dataloader.dataset.with_flow=False val_dataloader.dataset.with_flow=False
#   without motion   model.head.with_motion=False, train/val_dataloader.dataset.with_motion=False
#   action frames    train/val_dataloader.dataset.frames=actions
#   entire corpus    train/val_dataloader.dataset.include_test=True
_base_ = ['./import_vpd_mm.py', 'mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['vpd_mm', 'vpd_mm.engine'], allow_failed_imports=False)

data_root = 'data/fsjump6'
teacher = 'vipe'
feat_dim = 64
min_score = 0.5
rgb_mean = (0.485, 0.456, 0.406)  # resnet defaults; children use the per-sport values (spec section 3.2)
rgb_std = (0.229, 0.224, 0.225)
flow_std = 40.0  # flow is in pixels, clipped to +-20 px: +-20 px -> +-0.5, zero flow -> exactly 0 (bug 13 fixed)
batch_size = 100
num_workers = 8

model = dict(
    type='PoseDistiller',
    backbone=dict(type='VPDStudent', arch='resnet34', in_channels=5, out_dim=feat_dim, pretrained=None),
    head=dict(type='PoseMotionHead', in_dim=feat_dim, hidden=(128, 128), with_motion=True),
    data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCHW',
                           mean=[255 * m for m in rgb_mean] + [0.0, 0.0],
                           std=[255 * s for s in rgb_std] + [flow_std, flow_std]))

train_pipeline = [
    dict(type='LoadCropAndFlow'),
    dict(type='MirrorCropAndTarget', prob=0.5),
    dict(type='CropColorJitter', brightness=0.2, contrast=0.2, saturation=0.05, hue=0.05),
    dict(type='BackgroundNoise', std=0.05 ** 0.5, rgb_std=rgb_std, prob=0.5, no_mask='skip'),
    dict(type='ResizedCropWithFlow', size=128, scale=(0.5, 1.0), ratio=(0.9, 1.1)),
    dict(type='PackDistillInputs'),
]
val_pipeline = [dict(type='LoadCropAndFlow'), dict(type='PackDistillInputs')]

dataset_common = dict(type='VPDFrameDataset', data_root=data_root, teacher=teacher, min_score=min_score,
                      with_motion=True, with_flow=True, include_test=False, frames='all', val_fraction=0.2,
                      split_by='frame', seed=0)
train_dataloader = dict(
    batch_size=batch_size, num_workers=num_workers, persistent_workers=True,
    # a batch crosses from a worker as one shared-memory block (reused once freed), the inputs in float16
    collate_fn=dict(type='shared_storage_collate', inputs_dtype='float16'),
    sampler=dict(type='ReplacementSampler', num_samples=20000),
    dataset=dict(**dataset_common, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=batch_size, num_workers=num_workers, persistent_workers=True,
    collate_fn=dict(type='shared_storage_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset_common, split='val', max_frames=4000, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='DistillLossMetric')
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1000, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='AmpOptimWrapperIfCuda', optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.01))
param_scheduler = []  # constant learning rate, as the reference

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, ignore_last=False),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2, save_best='val/loss_ma5', rule='less'))
custom_hooks = [
    dict(type='LossMovingAverageHook', key='val/loss', window=5),
    # glibc keeps a freed batch's heap for the next batch instead of trimming it and faulting its pages in again;
    # set before the dataloader workers fork, so they inherit it (benchmarks/distill_throughput.py --malloc)
    dict(type='MallocThresholdHook', mmap_threshold=32 << 20, trim_threshold=64 << 20),
]
randomness = dict(seed=0, diff_rank_seed=False, deterministic=False)  # the reference sets no seed (bug 12)
auto_scale_lr = dict(enable=False, base_batch_size=100)
# log validation metrics as they are (mmengine's default averages every key matching "loss" over 20 entries,
# which would print a running mean of the epochs' validation losses)
log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True,
                     mean_pattern=r'^(?!val/).*(loss|time|data_time|grad_norm).*')
