# BiGRU action recognition on per-frame pose features (reference spec/reference_vpd.md section 6.3), the base of
# configs/recognition/bigru_<features>_<sport>.py. Children set data_root, features, classes and the model sizes.
#
#   model:     input dropout 0.2 -> BiGRU(hidden 128, 2 layers) -> max-pool over valid steps
#              -> BN-Dropout(0.5)-Linear-ReLU-BN-Dropout(0.5)-Linear
#   data:      ActionSequenceDataset; training: original and mirrored sequences are separate samples;
#              val/test: one sample with both views, the model averages the two softmaxes
#   schedule:  AdamW lr 1e-3 (weight decay 0.01), batch 50, 500 epochs, cosine warm restarts per iteration
#              (first period 50 epochs = max_epochs // 10, then x2), eta_min 1e-7
#   selection: validate every 10 epochs, keep the best acc/top1 (CheckpointHook save_best), stop after
#              max_epochs // 3 epochs without improvement. Never on the test split: FX35 and Diving48 carve a
#              validation subset from train (carve_val) when their corpus has no val split.
_base_ = ['./import_vpd_mm.py', 'mmaction::_base_/default_runtime.py']
custom_imports = dict(imports=['vpd_mm'], allow_failed_imports=False)

data_root = 'data/fsjump6'
features = 'teacher/pose2d'

model = dict(type='BiGRURecognizer', in_channels=26, num_classes=6, hidden_channels=128, num_layers=2,
             input_dropout=0.2, dropout=0.5, data_preprocessor=dict(type='ActionDataPreprocessor'))

pipeline = [dict(type='PackSequenceInputs')]
train_dataloader = dict(
    batch_size=50, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ActionSequenceDataset', data_root=data_root, features=features, split='train',
                 views='augment', pipeline=pipeline))
val_dataloader = dict(
    batch_size=50, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ActionSequenceDataset', data_root=data_root, features=features, split='val',
                 views='both', pipeline=pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=50, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ActionSequenceDataset', data_root=data_root, features=features, split='test',
                 views='both', pipeline=pipeline, test_mode=True))
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

max_epochs = 500
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01))
param_scheduler = [
    dict(type='CosineRestartLR', periods=[50, 100, 200, 400], restart_weights=[1, 1, 1, 1], eta_min=1e-7,
         by_epoch=True, convert_to_iter_based=True)
]

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(type='CheckpointHook', interval=10, save_best='acc/top1', rule='greater', max_keep_ckpts=1))
custom_hooks = [dict(type='EarlyStoppingHook', monitor='acc/top1', rule='greater', min_delta=0.0,
                     patience=max_epochs // 3 // 10)]
