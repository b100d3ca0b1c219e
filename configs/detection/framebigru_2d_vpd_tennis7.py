# Few-shot temporal detection of tennis swings,
# (0.2 s around ball contact; training on a few points with --videos 5),
# on 2D-VPD student features (d = 26).
# Run: python tools/detect.py configs/detection/framebigru_2d_vpd_tennis7.py --videos 5 --trial 0 --seed 0
_base_ = ['../_base_/bigru_detection.py']

data_root = 'data/tennis7'
features = 'features/2d_vpd'

model = dict(in_channels=26)
train_dataloader = dict(dataset=dict(data_root=data_root, features=features))
val_dataloader = dict(dataset=dict(data_root=data_root, features=features))
test_dataloader = dict(dataset=dict(data_root=data_root, features=features))
