# TRN multi-scale (ResNet-50, ImageNet cross-modality init) on the optical flow of the tracked athlete crops, the
# flow stream of the paper's TRN two-stream row (fuse with trn_r50_crop_<sport> via tools/late_fusion.py).
# The TRN recipe of ./trn_r50_crop.py (8 segments, TRNMultiScale head, partial BN, TSM optimiser constructor, SGD
# 0.002, 50 epochs, steps at 30 / 45, test on two offset clips) with TSN's flow input: each segment is 5 stacked
# flow fields (10 input channels, mean / std 128), read from the corpus (CropActionDataset in 'Flow' modality +
# CropDecode). mmaction2's Flip is replaced by FlipStackedFlow (see vpd_mm/datasets/crop_frames.py).
# Base of trn_r50_crop-flow_<sport>.py; on its own it points at the synthetic corpus.
#
# ImageNet weights: a torchvision resnet50 state dict given by path; conv1 gets TSN's cross-modality init (RGB
# filters averaged and replicated over the 10 flow channels). Missing file: from scratch, with a warning.
_base_ = ['./trn_r50_crop.py']

clip_len = 5
num_segments = 8

model = dict(backbone=dict(in_channels=2 * clip_len),
             data_preprocessor=dict(mean=[128, 128] * clip_len, std=[128, 128] * clip_len))

train_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=num_segments),
    dict(type='CropDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875, 0.75, 0.66), random_crop=False,
         max_wh_scale_gap=1, num_fixed_crops=13),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='FlipStackedFlow', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=num_segments, test_mode=True),
    dict(type='CropDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=num_segments, twice_sample=True,
         test_mode=True),
    dict(type='CropDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
features = 'TRNms (crop; flow)'
train_dataloader = dict(dataset=dict(modality='Flow', features=features, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(modality='Flow', features=features, pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(modality='Flow', features=features, pipeline=test_pipeline))
