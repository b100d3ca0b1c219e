# VPD distillation data for Diving48 (V2 labels): corpus folder, teacher threshold and RGB statistics (the reference's
# RGB_MEAN_STD['diving48'], spec section 3.2). Inherited by configs/vpd/{2d,vi}_vpd_diving48.py, which set the
# teacher.
_base_ = ['./vpd_distill.py']

data_root = 'data/diving48'
min_score = 0.5
rgb_mean = (0.3411, 0.4635, 0.5162)
rgb_std = (0.163, 0.1709, 0.1927)
flow_std = 40.0  # as the base: flow in pixels, +-20 px -> +-0.5

model = dict(data_preprocessor=dict(mean=[255 * m for m in rgb_mean] + [0.0, 0.0],
                                    std=[255 * s for s in rgb_std] + [flow_std, flow_std]))
train_pipeline = [
    dict(type='LoadCropAndFlow'),
    dict(type='MirrorCropAndTarget', prob=0.5),
    dict(type='CropColorJitter', brightness=0.2, contrast=0.2, saturation=0.05, hue=0.05),
    dict(type='BackgroundNoise', std=0.05 ** 0.5, rgb_std=rgb_std, prob=0.5, no_mask='skip'),
    dict(type='ResizedCropWithFlow', size=128, scale=(0.5, 1.0), ratio=(0.9, 1.1)),
    dict(type='PackDistillInputs'),
]
train_dataloader = dict(dataset=dict(data_root=data_root, min_score=min_score, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, min_score=min_score))
test_dataloader = val_dataloader
