"""The athlete tracking stage: box rules, ByteTrack association, the athlete rule, detectors, and the stage."""
from __future__ import annotations

import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest

from tests.benchmark.conftest import tiny_mocap  # noqa: F401  (the rendered tiny mocap_sports corpus)
from vpd_mm.corpus import Corpus, CorpusFormatError
from vpd_mm.stages.tracking import (DetectorWeightsError, Detections, TorchvisionPersonDetector, TrackPiece,
                                    associate, corpus_video_ids, fill_gaps, mask_landmark_box, pick_athlete,
                                    track_athletes, track_frames, track_salience)

W, H = 320, 240


def _det(*boxes_scores) -> Detections:
    if not boxes_scores:
        return Detections.empty()
    return Detections(np.array([b for b, _ in boxes_scores], np.float32),
                      np.array([s for _, s in boxes_scores], np.float32))


def _iou(a, b):
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_fill_gaps_interpolates_short_gaps_only():
    frames = np.array([0, 1, 4, 20])
    boxes = np.array([[0, 0, 10, 10], [3, 0, 13, 10], [12, 6, 22, 16], [0, 0, 1, 1]], np.float32)
    out_frames, out_boxes = fill_gaps(frames, boxes, max_gap=3)
    assert out_frames.tolist() == [0, 1, 2, 3, 4, 20]  # the 2-frame gap is filled, the 15-frame gap is not
    np.testing.assert_allclose(out_boxes[2], [6, 2, 16, 12])   # 1/3 of the way from frame 1 to frame 4
    np.testing.assert_allclose(out_boxes[3], [9, 4, 19, 14])   # 2/3
    np.testing.assert_array_equal(fill_gaps(frames, boxes, max_gap=0)[0], frames)


def test_mask_landmark_box_unites_mask_and_visible_landmarks():
    mask = np.zeros((100, 80), np.float32)
    mask[10:30, 20:40] = 0.9                                   # pixels rows 10..29, cols 20..39
    landmarks = np.array([[45.0, 20.0], [5.0, 95.0], [200.0, 50.0]])
    visibility = np.array([0.9, 0.2, 0.9])                    # the 2nd is hidden, the 3rd is outside the frame
    box = mask_landmark_box(mask, landmarks, visibility, pad=0.0)
    np.testing.assert_allclose(box, [20 - 1, 10 - 1, 45 + 1, 30 + 1])   # x to the landmark at 45, one pixel pad
    box = mask_landmark_box(mask, landmarks, visibility, pad=0.1)
    np.testing.assert_allclose(box, [20 - 3.5, 10 - 3.0, 45 + 3.5, 30 + 3.0])  # 10% of 25 x 20, plus 1 px
    assert mask_landmark_box(np.zeros((10, 10)), np.zeros((0, 2)), np.zeros(0)) is None


def test_salience_prefers_the_large_centred_long_track():
    centred = TrackPiece(1, np.arange(3, dtype=np.int32), np.tile([[130, 60, 190, 180]], (3, 1)).astype(np.float32),
                         np.full(3, 0.9, np.float32))
    # centre (160, 120) = frame centre: centrality 1; height 120 / 240 = 0.5 -> 3 * 0.9 * 0.5 = 1.35
    assert track_salience(centred, W, H) == pytest.approx(1.35)
    corner = TrackPiece(2, np.arange(3, dtype=np.int32), np.tile([[0, 0, 30, 60]], (3, 1)).astype(np.float32),
                        np.full(3, 0.9, np.float32))
    d = np.hypot(15 - 160, 30 - 120)
    assert track_salience(corner, W, H) == pytest.approx(3 * 0.9 * 0.25 * max(0.1, 1 - 2 * d / np.hypot(W, H)))


def _two_people(frames: int = 30, miss: tuple[int, ...] = ()) -> list[Detections]:
    """An athlete moving right across the centre, and a small spectator standing at the left edge."""
    out = []
    for t in range(frames):
        athlete = ([100 + 2 * t, 50, 160 + 2 * t, 190], 0.9)
        spectator = ([5, 150, 25, 200], 0.8)
        out.append(_det(spectator) if t in miss else _det(athlete, spectator))
    return out


def test_bytetrack_keeps_the_athlete_through_a_short_miss_and_the_rule_picks_it():
    detections = _two_people(miss=(10, 11, 12))
    pieces = associate(detections, fps=25.0)
    assert len(pieces) == 2                                   # two identities, none broken by the 3-frame miss
    athlete = pick_athlete(pieces, W, H, max_gap=25)
    assert athlete.num_tracks == 2 and len(athlete.pieces) == 1
    assert athlete.main_frames == 27 and athlete.detected_frames == 27 and athlete.interpolated == 3
    assert athlete.frames.tolist() == list(range(30))
    np.testing.assert_allclose(athlete.boxes[0], [100, 50, 60, 140])          # [x, y, w, h]
    np.testing.assert_allclose(athlete.boxes[11], [122, 50, 60, 140], atol=1e-4)  # interpolated = true position


def test_a_track_broken_by_a_long_miss_is_joined():
    # lost for 12 frames with a lost buffer of 0.2 s (5 frames at 25 fps): ByteTrack starts a new identity
    detections = [_det(([100 + t, 50, 160 + t, 190], 0.9)) if not 10 <= t < 22 else _det() for t in range(40)]
    pieces = associate(detections, fps=25.0, lost_seconds=0.2)
    assert len(pieces) == 2
    # ByteTrack reports a new identity from its second frame on: frames 0-9 and 23-39; the later one is nearer
    # the centre, so it is the main track and the earlier one is joined to it
    assert [p.frames.tolist() for p in pieces] == [list(range(10)), list(range(23, 40))]
    joined = pick_athlete(pieces, W, H, max_gap=25)
    assert joined.pieces == [1, 2] and joined.main_id == 2 and joined.main_frames == 17
    assert joined.detected_frames == 27 and joined.interpolated == 13 and joined.frames.tolist() == list(range(40))
    np.testing.assert_allclose(joined.boxes[16], [116, 50, 60, 140], atol=1e-4)  # on the straight line
    alone = pick_athlete(pieces, W, H, max_gap=5)              # a gap longer than max_gap is not bridged
    assert alone.pieces == [2] and alone.frames.tolist() == list(range(23, 40))
    # rule 5: frame 22 (the detection ByteTrack left out) replaces the interpolated box
    snapped = pick_athlete(pieces, W, H, max_gap=25, detections=detections)
    assert snapped.detected_frames == 28 and snapped.interpolated == 12
    np.testing.assert_allclose(snapped.boxes[22], [122, 50, 60, 140])
    np.testing.assert_allclose(snapped.boxes[16], joined.boxes[16])  # no detection there: still interpolated


def test_nobody_gives_an_empty_track():
    athlete = pick_athlete(associate([Detections.empty()] * 5, fps=25.0), W, H, max_gap=5)
    assert athlete.main_id is None and len(athlete.frames) == 0 and athlete.boxes.shape == (0, 4)


def test_torchvision_detector_loads_a_state_dict_and_refuses_others(tmp_path):
    import torch
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None)
    torch.save(model.state_dict(), tmp_path / 'frcnn.pth')
    # the 320 variant has the same tensors as the full-resolution one: recognised as the first, or named
    assert TorchvisionPersonDetector(str(tmp_path / 'frcnn.pth')).arch == 'fasterrcnn_mobilenet_v3_large_fpn'
    detector = TorchvisionPersonDetector(str(tmp_path / 'frcnn.pth'), arch='fasterrcnn_mobilenet_v3_large_320_fpn',
                                         score_thresh=0.0, device='cpu')
    found = detector(np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8))
    assert found.boxes.shape == (len(found), 4) and found.scores.shape == (len(found),)
    assert ((found.boxes[:, 2:] >= found.boxes[:, :2]).all() and (found.boxes[:, 2] <= 160).all())
    torch.save({'conv.weight': torch.zeros(3)}, tmp_path / 'other.pth')
    with pytest.raises(DetectorWeightsError, match='other.pth: not a state dict of'):
        TorchvisionPersonDetector(str(tmp_path / 'other.pth'))
    with pytest.raises(DetectorWeightsError, match='does not exist'):
        TorchvisionPersonDetector(str(tmp_path / 'missing.pth'))


@pytest.fixture
def raw_mocap(tiny_mocap, tmp_path):  # noqa: F811
    """Two rendered videos as a raw corpus (ground-truth tracks moved aside)."""
    corpus = Corpus(str(tmp_path / 'raw'))
    ids = tiny_mocap.video_ids()[:2]
    for video_id in ids:
        dest = corpus.path('videos', video_id + '.mp4')
        os.makedirs(osp.dirname(dest), exist_ok=True)
        shutil.copy(tiny_mocap.video_path(video_id), dest)
    shutil.copy(tiny_mocap.path('meta.json'), corpus.path('meta.json'))
    return corpus, ids


def test_mediapipe_tracking_matches_the_rendered_ground_truth(raw_mocap, tiny_mocap):  # noqa: F811
    corpus, ids = raw_mocap
    assert corpus_video_ids(corpus) == ids and corpus.video_ids() == []
    result = track_athletes(corpus, progress=False, on_error='raise')
    assert result['written'] == 2 and result['errors'] == 0
    ious, frames = [], 0
    for video_id in ids:
        ours, truth = corpus.read_track(video_id), tiny_mocap.read_track(video_id)
        boxes = {int(f): b for f, b in zip(ours.frames, ours.boxes)}
        frames += len(truth.frames)
        ious += [_iou(boxes[int(f)], g) for f, g in zip(truth.frames, truth.boxes) if int(f) in boxes]
    assert result['frames'] == frames and result['tracked'] >= 0.9 * frames
    assert np.mean(np.array(ious) >= 0.5) >= 0.9     # the benchmark script measures the full corpus
    with open(corpus.path('tracks', ids[0] + '.json')) as f:
        rows = json.load(f)
    assert all(len(r) == 5 and float(r[0]).is_integer() for r in rows)
    # resumable: a second run skips both videos
    again = track_athletes(corpus, progress=False)
    assert again['skipped'] == 2 and again['written'] == 0


def test_stage_errors_name_the_file(tmp_path):
    corpus = Corpus(str(tmp_path / 'empty'))
    with pytest.raises(CorpusFormatError, match='no videos to track'):
        track_athletes(corpus, progress=False)
    os.makedirs(corpus.path('videos'))
    (tmp_path / 'empty' / 'videos' / 'broken.mp4').write_bytes(b'not a video')
    result = track_athletes(corpus, progress=False)
    assert result['errors'] == 1 and 'broken.mp4: cannot open the video' in result['failed'][0]
    assert not osp.exists(corpus.path('tracks', 'broken.json'))


def test_track_frames_on_blank_frames_finds_nobody():
    class Nobody:
        calls = 0

        def reset(self):
            self.calls = 0

        def __call__(self, rgb):
            self.calls += 1
            return Detections.empty()

    detector = Nobody()
    athlete, detections, size = track_frames((np.zeros((24, 32, 3), np.uint8) for _ in range(4)), detector, 25.0)
    assert detector.calls == 4 and size == (24, 32) and len(athlete.frames) == 0 and len(detections) == 4

