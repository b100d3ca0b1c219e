# GSM (Gate-Shift Module) in a ResNet-50 (ImageNet) on the full video frames, the paper's GSM "w/o crop" row.
# The GSM model and recipe of ./gsm_r50_crop.py (ResNetGSM with zero-initialised gates + TSNHead, 8 segments, SGD
# 0.01, 10 warm-up epochs, 60 epochs, test on two offset clips with one centre crop, as the GSM authors test) with
# the full-frame data of ./tsn_r50_fullframe.py: vpd_mm CorpusVideoDataset + mmaction2's decord pipeline, with
# ActionWindow (right after DecordInit) keeping the segments inside each action's window.
# Base of gsm_r50_fullframe_<sport>.py; on its own it points at the synthetic corpus.
#
# ImageNet weights: a torchvision resnet50 state dict given by path; missing file: from scratch, with a warning.
_base_ = ['./gsm_r50_crop.py']

data_root = 'data/synthetic'
num_segments = 8

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='ActionWindow'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875, 0.75, 0.66), random_crop=False,
         max_wh_scale_gap=1),
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
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
corpus_dataset = dict(_delete_=True, type='CorpusVideoDataset', data_root=data_root, window='sport',
                      features='GSM (w/o crop)')
train_dataloader = dict(dataset=dict(corpus_dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(corpus_dataset, split='val', pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(dataset=dict(corpus_dataset, split='test', pipeline=test_pipeline, test_mode=True))
