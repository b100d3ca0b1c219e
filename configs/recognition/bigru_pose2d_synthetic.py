# BiGRU on the 2D-joint teacher features (teacher/pose2d, d = 26) of the tiny synthetic corpus: trains in a few
# seconds on a CPU. Used by the tests and `make demo`.
#
# Data: python tools/data/make_synthetic_corpus.py --out data/synthetic, then the 2D-joint teacher features
# (tools/extract_teacher.py, or tools/demo.py's write_pose2d_teacher).
# Train: python tools/train.py configs/recognition/bigru_pose2d_synthetic.py --seed 0 --cfg-options \
#            train_dataloader.dataset.data_root=DIR val_dataloader.dataset.data_root=DIR \
#            test_dataloader.dataset.data_root=DIR
_base_ = ['../_base_/bigru_recognition.py']

data_root = 'data/synthetic'
features = 'teacher/pose2d'

model = dict(in_channels=26, num_classes=3)
train_dataloader = dict(batch_size=8, dataset=dict(data_root=data_root, features=features))
val_dataloader = dict(dataset=dict(data_root=data_root, features=features))
test_dataloader = dict(dataset=dict(data_root=data_root, features=features))

max_epochs = 30
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
param_scheduler = [
    dict(type='CosineRestartLR', periods=[4, 8, 16, 32], restart_weights=[1, 1, 1, 1], eta_min=1e-7,
         by_epoch=True, convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=5))
custom_hooks = [dict(type='EarlyStoppingHook', monitor='acc/top1', rule='greater', min_delta=0.0,
                     patience=max_epochs // 3 // 5)]
