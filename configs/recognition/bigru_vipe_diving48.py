# BiGRU on VIPE* with vertical inversion (teacher/vipe_inv, d = 128, as in the paper for Diving48) for diving48.
# Diving48 (V2 labels): 48 classes (class 30 has no actions); no native val split, so 20% of train (seeded,
# stratified) validates (the reference used test).
# Train: python tools/train.py configs/recognition/bigru_vipe_diving48.py
# Few-shot: python tools/fewshot.py configs/recognition/bigru_vipe_diving48.py --k 4 8 16 32 64 --trials 5 --seed 0
_base_ = ['../_base_/bigru_recognition.py']

data_root = 'data/diving48'
features = 'teacher/vipe_inv'
carve_val = 0.2  # used only when the corpus has no val actions

model = dict(in_channels=128, num_classes=48)
train_dataloader = dict(dataset=dict(data_root=data_root, features=features, carve_val=carve_val))
val_dataloader = dict(dataset=dict(data_root=data_root, features=features, carve_val=carve_val))
test_dataloader = dict(dataset=dict(data_root=data_root, features=features))
