# ST-GCN on the tracked athlete's 2D poses (COCO-17 joints + scores), the paper's "ST-GCN" baseline.
# mmaction2's ST-GCN 2D recipe (UniformSampleFrames 100, 10 test clips, SGD 0.1 nesterov, cosine) with one person
# (the tracked athlete) and the poses read from the corpus (vpd_mm CorpusPoseDataset: the same windows, classes,
# validation carve and few-shot lists as the pose-feature models). mmaction2 repeats its dataset 5x for 16 epochs
# ("80e"); the dataset is not wrapped here (so `train_dataloader.dataset.fewshot_file` is the same key for every
# baseline) and runs 80 epochs, validating every 5 (= once per repeated epoch).
# Base of stgcn_<sport>.py; on its own it points at the synthetic corpus.
_base_ = ['../../_base_/import_vpd_mm.py',
          'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py']
custom_imports = dict(imports=['vpd_mm'], allow_failed_imports=False)

data_root = 'data/synthetic'
clip_len = 100
max_epochs = 80
feats = ['j']

model = dict(backbone=dict(num_person=1), cls_head=dict(num_classes=3))

train_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=feats),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=feats),
    dict(type='UniformSampleFrames', clip_len=clip_len, num_clips=1, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=feats),
    dict(type='UniformSampleFrames', clip_len=clip_len, num_clips=10, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
corpus_dataset = dict(_delete_=True, type='CorpusPoseDataset', data_root=data_root, window='sport', features='ST-GCN')
train_dataloader = dict(dataset=dict(corpus_dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(corpus_dataset, split='val', pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(dataset=dict(corpus_dataset, split='test', pipeline=test_pipeline, test_mode=True))

train_cfg = dict(max_epochs=max_epochs, val_interval=5)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0, T_max=max_epochs, by_epoch=True, convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=5), logger=dict(interval=20))
