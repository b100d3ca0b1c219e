# BiGRU on VIPE* (the view-invariant teacher, d = 64; Diving48: teacher/vipe_inv, d = 128) for tennis7.
# Tennis7: the 7 swing classes of the 11 tennis labels (others are left out, counted in the log); official val split.
# Train: python tools/train.py configs/recognition/bigru_vipe_tennis7.py
# Few-shot: python tools/fewshot.py configs/recognition/bigru_vipe_tennis7.py --k 4 8 16 32 64 --trials 5 --seed 0
_base_ = ['../_base_/bigru_recognition.py']

data_root = 'data/tennis7'
features = 'teacher/vipe'
classes = ['forehand_topspin', 'forehand_slice', 'backhand_topspin', 'backhand_slice', 'forehand_volley',
           'backhand_volley', 'overhead']

model = dict(in_channels=64, num_classes=7)
train_dataloader = dict(dataset=dict(data_root=data_root, features=features, classes=classes))
val_dataloader = dict(dataset=dict(data_root=data_root, features=features, classes=classes))
test_dataloader = dict(dataset=dict(data_root=data_root, features=features, classes=classes))
