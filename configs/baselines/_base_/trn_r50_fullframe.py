# TRN multi-scale (ResNet-50, ImageNet) on the full video frames, the paper's TRN "w/o crop" row.
# The TRN recipe of ./trn_r50_crop.py (8 segments, TRNMultiScale head, partial BN, TSM optimiser constructor, SGD
# 0.002, 50 epochs, steps at 30 / 45) with mmaction2's own decord pipeline of its Something-Something TRN config:
# the corpus actions are served by vpd_mm CorpusVideoDataset, and ActionWindow (right after DecordInit) keeps the
# segments inside each action's window; the test is mmaction2's TRN test (two offset clips x ThreeCrop(256)).
# The decord pipeline is the one of ./tsn_r50_fullframe.py (plus num_fixed_crops=13 and the TRN test) restated,
# not inherited: an mmengine config has one base per key, and as a child of tsn_r50_fullframe.py this config would
# keep keys of the Kinetics TSN recipe that a child cannot remove (auto_scale_lr) instead of mmaction2's TRN recipe.
# Base of trn_r50_fullframe_<sport>.py; on its own it points at the synthetic corpus.
#
# ImageNet weights: a torchvision resnet50 state dict given by path; missing file: from scratch, with a warning.
_base_ = ['./trn_r50_crop.py']

data_root = 'data/synthetic'
num_segments = 8

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='ActionWindow'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875, 0.75, 0.66), random_crop=False,
         max_wh_scale_gap=1, num_fixed_crops=13),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='ActionWindow'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='ActionWindow'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments, twice_sample=True,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
corpus_dataset = dict(_delete_=True, type='CorpusVideoDataset', data_root=data_root, window='sport',
                      features='TRNms (w/o crop)')
train_dataloader = dict(dataset=dict(corpus_dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(corpus_dataset, split='val', pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(dataset=dict(corpus_dataset, split='test', pipeline=test_pipeline, test_mode=True))
