# BiGRU on per-frame features of the embedded benchmark `mocap_sports` (8 classes), used by `make demo`'s
# few-shot protocol for every feature set: set `features` (teacher/pose2d, teacher/vipe, features/2d_vpd,
# features/vi_vpd) and `model.in_channels` (26 or 64). CPU-sized: 20 epochs at most, validation every 5 on the
# val split (never test), early stopping; otherwise the reference recipe of ../_base_/bigru_recognition.py
# (batch 50, AdamW 1e-3, cosine warm restarts).
_base_ = ['../_base_/bigru_recognition.py']

data_root = 'data/mocap_sports'
features = 'teacher/pose2d'

model = dict(in_channels=26, num_classes=8)
max_fps = 12.5  # CPU sizing: sequences subsampled to 12.5 fps (the reference: at most 25); actions last 1.3-3.4 s
train_dataloader = dict(batch_size=50, dataset=dict(data_root=data_root, features=features, max_fps=max_fps))
val_dataloader = dict(dataset=dict(data_root=data_root, features=features, max_fps=max_fps))
test_dataloader = dict(dataset=dict(data_root=data_root, features=features, max_fps=max_fps))

max_epochs = 20
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
param_scheduler = [
    dict(type='CosineRestartLR', periods=[5, 15], restart_weights=[1, 1], eta_min=1e-7,
         by_epoch=True, convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=max_epochs))  # best + last only
custom_hooks = [dict(type='EarlyStoppingHook', monitor='acc/top1', rule='greater', min_delta=0.0, patience=3)]
