# TSN (ResNet-50, ImageNet) on the full video frames, the paper's "TSN (w/o crop)" baseline.
# mmaction2's Kinetics-400 TSN recipe (8 segments, SGD 0.01, 100 epochs) and its own decord pipeline; the corpus
# actions are served by vpd_mm CorpusVideoDataset, and ActionWindow (right after DecordInit) keeps the segments
# inside each action's window. Base of tsn_r50_fullframe_<sport>.py; on its own it points at the synthetic corpus.
#
# ImageNet weights: a torchvision resnet50 state dict given by path; missing file: from scratch, with a warning.
_base_ = ['../../_base_/import_vpd_mm.py',
          'mmaction::recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb.py']
custom_imports = dict(imports=['vpd_mm'], allow_failed_imports=False)

data_root = 'data/synthetic'
imagenet_r50 = 'checkpoints/resnet50-11ad3fa6.pth'  # https://download.pytorch.org/models/resnet50-11ad3fa6.pth
num_segments = 8

model = dict(backbone=dict(type='LocalPretrainedResNet', pretrained=imagenet_r50), cls_head=dict(num_classes=3))

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
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=25, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
corpus_dataset = dict(_delete_=True, type='CorpusVideoDataset', data_root=data_root, window='sport',
                      features='TSN (w/o crop)')
train_dataloader = dict(num_workers=4, dataset=dict(corpus_dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(num_workers=4, dataset=dict(corpus_dataset, split='val', pipeline=val_pipeline,
                                                  test_mode=True))
test_dataloader = dict(num_workers=4, dataset=dict(corpus_dataset, split='test', pipeline=test_pipeline,
                                                   test_mode=True))
