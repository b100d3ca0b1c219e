# VIPE* on user-supplied Human3.6M joints, with the reference optimisation (AdamW 1e-4, batch 100,
# 20000 samples per epoch; the reference runs 500 epochs, mixing four 3D datasets).
#
# Data:  python tools/data/convert_3d_poses.py --format h36m <D3_Positions .npy files> --out data/h36m3d \
#            --val-match S9_ S11_          (validation subjects S9 and S11, as the reference)
# Train: python tools/train.py configs/vipe/vipe_h36m.py
# Test:  python tools/test.py configs/vipe/vipe_h36m.py work_dirs/vipe_h36m/epoch_500.pth
# AMASS (or several sources): convert with --format amass into the same folder, or point data_root elsewhere.
_base_ = ['./_base_/vipe_runtime.py']

data_root = 'data/h36m3d'

model = dict(type='VIPEEmbedder', embed_dim=64, hidden=1024, num_blocks=2, dropout=0.2)

train_dataloader = dict(
    batch_size=100, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='VIPEPairDataset', data_root=data_root, split='train', samples_per_epoch=20000))
val_dataloader = dict(
    batch_size=256, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='VIPEViewPairDataset', data_root=data_root, split='val', frame_stride=25, seed=0))
test_dataloader = val_dataloader
val_evaluator = dict(type='ViewRetrievalMetric')
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=500, val_interval=25)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.01))
param_scheduler = []
default_hooks = dict(checkpoint=dict(interval=25))
