# BiGRU on 2D-VPD student features (d = 26) for tennis7.
# Tennis7: the 7 swing classes of the 11 tennis labels (others are left out, counted in the log); official val split.
# Train: python tools/train.py configs/recognition/bigru_2d_vpd_tennis7.py
# Few-shot: python tools/fewshot.py configs/recognition/bigru_2d_vpd_tennis7.py --k 4 8 16 32 64 --trials 5 --seed 0
_base_ = ['../_base_/bigru_recognition.py']

data_root = 'data/tennis7'
features = 'features/2d_vpd'
classes = ['forehand_topspin', 'forehand_slice', 'backhand_topspin', 'backhand_slice', 'forehand_volley',
           'backhand_volley', 'overhead']

model = dict(in_channels=26, num_classes=7)
train_dataloader = dict(dataset=dict(data_root=data_root, features=features, classes=classes))
val_dataloader = dict(dataset=dict(data_root=data_root, features=features, classes=classes))
test_dataloader = dict(dataset=dict(data_root=data_root, features=features, classes=classes))
