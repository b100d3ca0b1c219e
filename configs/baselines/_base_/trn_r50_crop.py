# TRN multi-scale (ResNet-50, ImageNet) on the tracked athlete crops (RGB), the paper's "TRNms (crop)" baseline.
# mmaction2's Something-Something-V2 TRN recipe (8 segments, TRNMultiScale head, partial BN, TSM optimiser
# constructor, SGD 0.002, 50 epochs, steps at 30 / 45) with the data read from the corpus crops (CropActionDataset
# + CropDecode); no flip_label_map (the sports classes have no left/right pairs; mirrored samples keep their label,
# as in the pose-feature models). Base of trn_r50_crop_<sport>.py; on its own it points at the synthetic corpus.
#
# ImageNet weights: a torchvision resnet50 state dict given by path; missing file: from scratch, with a warning.
_base_ = ['../../_base_/import_vpd_mm.py',
          'mmaction::recognition/trn/trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb.py']
custom_imports = dict(imports=['vpd_mm'], allow_failed_imports=False)

data_root = 'data/synthetic'
imagenet_r50 = 'checkpoints/resnet50-11ad3fa6.pth'  # https://download.pytorch.org/models/resnet50-11ad3fa6.pth
num_segments = 8

model = dict(backbone=dict(type='LocalPretrainedResNet', pretrained=imagenet_r50),
             cls_head=dict(num_classes=3, num_segments=num_segments))

train_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments),
    dict(type='CropDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875, 0.75, 0.66), random_crop=False,
         max_wh_scale_gap=1, num_fixed_crops=13),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments, test_mode=True),
    dict(type='CropDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
# mmaction2's TRN test: twice_sample x ThreeCrop(256); the crops centre the athlete, so CenterCrop(224) here
test_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments, twice_sample=True,
         test_mode=True),
    dict(type='CropDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
corpus_dataset = dict(_delete_=True, type='CropActionDataset', data_root=data_root, modality='RGB',
                      window='sport', features='TRNms (crop)')
train_dataloader = dict(num_workers=4, dataset=dict(corpus_dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(num_workers=4, dataset=dict(corpus_dataset, split='val', pipeline=val_pipeline,
                                                  test_mode=True))
test_dataloader = dict(num_workers=4, dataset=dict(corpus_dataset, split='test', pipeline=test_pipeline,
                                                   test_mode=True))
