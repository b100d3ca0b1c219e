# Few-shot temporal detection of tennis swings,
# (0.2 s around ball contact; training on a few points with --videos 5),
# on VI-VPD student features (d = 64).
# Run: python tools/detect.py configs/detection/framebigru_vi_vpd_tennis7.py --videos 5 --trial 0 --seed 0
_base_ = ['../_base_/bigru_detection.py']

data_root = 'data/tennis7'
features = 'features/vi_vpd'

model = dict(in_channels=64)
train_dataloader = dict(dataset=dict(data_root=data_root, features=features))
val_dataloader = dict(dataset=dict(data_root=data_root, features=features))
test_dataloader = dict(dataset=dict(data_root=data_root, features=features))
