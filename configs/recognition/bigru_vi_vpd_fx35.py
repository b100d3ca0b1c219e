# BiGRU on VI-VPD student features (d = 64; Diving48 d = 128) for fx35.
# FX35: the 35 floor-exercise classes of Gym99; no native val split, so 20% of train (seeded, stratified)
# validates (the reference used test).
# Train: python tools/train.py configs/recognition/bigru_vi_vpd_fx35.py
# Few-shot: python tools/fewshot.py configs/recognition/bigru_vi_vpd_fx35.py --k 4 8 16 32 64 --trials 5 --seed 0
_base_ = ['../_base_/bigru_recognition.py']

data_root = 'data/fx35'
features = 'features/vi_vpd'
carve_val = 0.2  # used only when the corpus has no val actions

model = dict(in_channels=64, num_classes=35)
train_dataloader = dict(dataset=dict(data_root=data_root, features=features, carve_val=carve_val))
val_dataloader = dict(dataset=dict(data_root=data_root, features=features, carve_val=carve_val))
test_dataloader = dict(dataset=dict(data_root=data_root, features=features))
