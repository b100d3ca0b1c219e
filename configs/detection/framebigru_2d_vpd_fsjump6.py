# Few-shot temporal detection of figure skating jumps,
# (all 6 classes collapse into "jump"; training on a few routines with --videos 5),
# on 2D-VPD student features (d = 26).
# Run: python tools/detect.py configs/detection/framebigru_2d_vpd_fsjump6.py --videos 5 --trial 0 --seed 0
_base_ = ['../_base_/bigru_detection.py']

data_root = 'data/fsjump6'
features = 'features/2d_vpd'

model = dict(in_channels=26)
train_dataloader = dict(dataset=dict(data_root=data_root, features=features))
val_dataloader = dict(dataset=dict(data_root=data_root, features=features))
test_dataloader = dict(dataset=dict(data_root=data_root, features=features))
