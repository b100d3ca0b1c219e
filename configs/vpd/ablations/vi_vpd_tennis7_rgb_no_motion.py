# Table 2(a) "distilled w/o motion; RGB": RGB-only student (3 input channels, no flow) without decoder D.
_base_ = ['../vi_vpd_tennis7.py']

rgb_mean = (0.4416, 0.4703, 0.4534)
rgb_std = (0.1353, 0.1208, 0.1262)
model = dict(backbone=dict(in_channels=3), head=dict(with_motion=False),
             data_preprocessor=dict(mean=[255 * m for m in rgb_mean], std=[255 * s for s in rgb_std]))
train_dataloader = dict(dataset=dict(with_motion=False, with_flow=False))
val_dataloader = dict(dataset=dict(with_motion=False, with_flow=False))
test_dataloader = val_dataloader
