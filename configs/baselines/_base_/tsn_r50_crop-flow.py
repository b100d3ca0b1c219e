# TSN (ResNet-50, ImageNet cross-modality init) on the optical flow of the tracked athlete crops, the flow stream
# of the paper's "TSN (crop; 2-stream)" (fuse with tsn_r50_crop_<sport> via tools/late_fusion.py).
# mmaction2's Kinetics-400 flow TSN recipe (3 segments of 5 stacked flow fields, 10 input channels, mean / std
# 128, SGD 0.005, 110 epochs, steps at 70 / 100) with the flow read from the corpus (CropActionDataset in 'Flow'
# modality + CropDecode). mmaction2's Flip is replaced by FlipStackedFlow (see vpd_mm/datasets/crop_frames.py).
# Base of tsn_r50_crop-flow_<sport>.py; on its own it points at the synthetic corpus.
#
# ImageNet weights: a torchvision resnet50 state dict given by path; conv1 gets TSN's cross-modality init (RGB
# filters averaged and replicated over the 10 flow channels). Missing file: from scratch, with a warning.
_base_ = ['../../_base_/import_vpd_mm.py',
          'mmaction::recognition/tsn/tsn_imagenet-pretrained-r50_8xb32_5x1x3-110e_kinetics400-flow.py']
custom_imports = dict(imports=['vpd_mm'], allow_failed_imports=False)

data_root = 'data/synthetic'
imagenet_r50 = 'checkpoints/resnet50-11ad3fa6.pth'  # https://download.pytorch.org/models/resnet50-11ad3fa6.pth
clip_len = 5
num_segments = 3

model = dict(backbone=dict(type='LocalPretrainedResNet', pretrained=imagenet_r50, in_channels=2 * clip_len),
             cls_head=dict(num_classes=3),
             data_preprocessor=dict(mean=[128, 128] * clip_len, std=[128, 128] * clip_len))

train_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=num_segments),
    dict(type='CropDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
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
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=25, test_mode=True),
    dict(type='CropDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
corpus_dataset = dict(_delete_=True, type='CropActionDataset', data_root=data_root, modality='Flow',
                      window='sport', features='TSN (crop; flow)')
train_dataloader = dict(num_workers=4, dataset=dict(corpus_dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(num_workers=4, dataset=dict(corpus_dataset, split='val', pipeline=val_pipeline,
                                                  test_mode=True))
test_dataloader = dict(num_workers=4, dataset=dict(corpus_dataset, split='test', pipeline=test_pipeline,
                                                   test_mode=True))
