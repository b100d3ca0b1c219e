# BiGRU on VIPE* (the view-invariant teacher, d = 64; Diving48: teacher/vipe_inv, d = 128) for fsjump6.
# FSJump6: 6 jump classes; official val split (val.ids.txt).
# Train: python tools/train.py configs/recognition/bigru_vipe_fsjump6.py
# Few-shot: python tools/fewshot.py configs/recognition/bigru_vipe_fsjump6.py --k 4 8 16 32 64 --trials 5 --seed 0
_base_ = ['../_base_/bigru_recognition.py']

data_root = 'data/fsjump6'
features = 'teacher/vipe'

model = dict(in_channels=64, num_classes=6)
train_dataloader = dict(dataset=dict(data_root=data_root, features=features))
val_dataloader = dict(dataset=dict(data_root=data_root, features=features))
test_dataloader = dict(dataset=dict(data_root=data_root, features=features))
