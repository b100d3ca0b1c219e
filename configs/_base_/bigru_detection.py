# Per-frame BiGRU detection on pose features (reference spec/reference_vpd.md section 8.2), the base of
# configs/detection/framebigru_<features>_<sport>.py, run by tools/detect.py (a 5-fold ensemble: it sets the
# training and validation videos of each fold). Children set data_root, features and model.in_channels.
# With tools/train.py alone: one model trained on the train-split videos, selected on the val-split videos.
#
#   model:     input dropout 0.2 -> BiGRU(hidden 128, 2 layers) -> per frame BN-Dropout(0.5)-Linear-ReLU-BN-
#              Dropout(0.5)-Linear(256, 2); cross-entropy over all frames
#   data:      FrameWindowDataset: 250-frame windows, 5000 per epoch, a video drawn with weight max(0, T - 250),
#              a view (original or mirrored) drawn uniformly; validation: the held-out fold's videos cut into
#              consecutive windows, both views
#   schedule:  AdamW lr 1e-3 (weight decay 0.01), batch 100, no scheduler, at most 200 epochs, stop after 50
#              epochs without improvement of the validation frame accuracy, keep the best (save_best frame/acc)
#   metrics:   validation: frame accuracy (the reference's model selection); test (tools/test.py CONFIG CKPT):
#              frame accuracy and AP at tIoU 0.3..0.7 (TemporalDetectionAP: windows stitched back into videos,
#              proposals at the activation threshold `detection_threshold`, keys detection/AP@<tIoU>,
#              detection/mAP). tools/detect.py chooses the threshold on validation folds and reports its own AP.
_base_ = ['./import_vpd_mm.py', 'mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['vpd_mm'], allow_failed_imports=False)

data_root = 'data/fsjump6'
features = 'teacher/pose2d'
window = 250

model = dict(type='FrameBiGRUDetector', in_channels=26, hidden_channels=128, num_layers=2, input_dropout=0.2,
             dropout=0.5, data_preprocessor=dict(type='ActionDataPreprocessor'))

pipeline = [dict(type='PackSequenceInputs')]
train_dataloader = dict(
    batch_size=100, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),  # every item is already a random window
    dataset=dict(type='FrameWindowDataset', data_root=data_root, features=features, splits=('train',),
                 window=window, mode='random', num_windows=5000, pipeline=pipeline))
val_dataloader = dict(
    batch_size=100, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='FrameWindowDataset', data_root=data_root, features=features, splits=('val',),
                 window=window, mode='tiles', pipeline=pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=100, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='FrameWindowDataset', data_root=data_root, features=features, splits=('test',),
                 window=window, mode='tiles', pipeline=pipeline, test_mode=True))
detection_threshold = 0.5
val_evaluator = dict(type='FrameAccuracy')
test_evaluator = [dict(type='FrameAccuracy'),
                  dict(type='TemporalDetectionAP', tious=(0.3, 0.4, 0.5, 0.6, 0.7), threshold=detection_threshold,
                       max_gap=1, min_length=5)]

max_epochs = 200
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01))
param_scheduler = []

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='frame/acc', rule='greater', max_keep_ckpts=1))
custom_hooks = [dict(type='EarlyStoppingHook', monitor='frame/acc', rule='greater', min_delta=0.0, patience=50)]
