# Per-frame BiGRU detection on the 2D-joint teacher features of the tiny synthetic corpus (50-frame videos):
# 32-frame windows, a few epochs; runs end to end in seconds on a CPU. Used by the tests.
# Run: python tools/detect.py configs/detection/framebigru_pose2d_synthetic.py --folds 2 --cfg-options \
#          train_dataloader.dataset.data_root=DIR val_dataloader.dataset.data_root=DIR \
#          test_dataloader.dataset.data_root=DIR
_base_ = ['../_base_/bigru_detection.py']

data_root = 'data/synthetic'
features = 'teacher/pose2d'
window = 32

model = dict(in_channels=26, hidden_channels=32)
train_dataloader = dict(batch_size=16, dataset=dict(data_root=data_root, features=features, window=window,
                                                    num_windows=64))
val_dataloader = dict(batch_size=16, dataset=dict(data_root=data_root, features=features, window=window))
test_dataloader = dict(batch_size=16, dataset=dict(data_root=data_root, features=features, window=window))

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(logger=dict(interval=1))
custom_hooks = [dict(type='EarlyStoppingHook', monitor='frame/acc', rule='greater', min_delta=0.0, patience=4)]
