# VIPE* trained on the DeepMimic motion capture shipped with pybullet: the embedded, download-free VIPE*.
#
# Data (seconds, offline):  python tools/data/prepare_mocap.py --out data/mocap3d
# Train (CPU, ~5 minutes):  python tools/train.py configs/vipe/vipe_mocap.py     (1000 iterations of batch 100)
# View-invariance test:     python tools/test.py configs/vipe/vipe_mocap.py work_dirs/vipe_mocap/epoch_20.pth
#
# Trains on the clips of splits.json "train" (vpd_mm.mocap.deepmimic.VIPE_TRAIN_CLIPS) only. Validation and test
# run on the held-out clips (VIPE_HELDOUT_CLIPS, the action classes of the rendered benchmark); they are only
# reported, never used to select a checkpoint (save_best=None), so nothing about the held-out clips leaks into
# the model. The metric is hit@1 of retrieving the same 3D frame from another random camera, for the embedding
# (view_retrieval/hit1) and for normalised 2D joints on the same views (view_retrieval/hit1_pose2d).
_base_ = ['./_base_/vipe_runtime.py']

data_root = 'data/mocap3d'

model = dict(type='VIPEEmbedder', embed_dim=64, hidden=1024, num_blocks=2, dropout=0.2)

train_dataloader = dict(
    batch_size=100, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='VIPEPairDataset', data_root=data_root, split='train', samples_per_epoch=5000))
val_dataloader = dict(
    batch_size=256, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='VIPEViewPairDataset', data_root=data_root, split='heldout', seed=0))
test_dataloader = val_dataloader
val_evaluator = dict(type='ViewRetrievalMetric')
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01))
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=0, end=20,
                        convert_to_iter_based=True)]
