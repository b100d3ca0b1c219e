"""Athlete crops: window math, zero fill, known frames, previous crop, storage, resume and bad inputs."""
from __future__ import annotations

import importlib.util
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from vpd_mm.corpus import Corpus, CorpusFormatError, CorpusMeta, Track
from vpd_mm.corpus.crop_store import CROP_BYTES_PER_FRAME, CropStore, decode_crop, encode_crop
from vpd_mm.datasets.transforms.augment import mirror_crops_and_flow
from vpd_mm.stages.crops import crop_window, cut_window, extract_crops, track_windows
from vpd_mm.testing import TinyCorpusSpec, make_tiny_corpus

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SMALL = TinyCorpusSpec(num_videos=5, num_frames=20, action_len=8)


# ------------------------------------------------------------------------------------------------ window math
def test_crop_window_hand_computed():
    # box x 10..40, y 20..70: side 50, padded 60, centre (25, 45) -> corner (-5, 15)
    assert crop_window([10, 20, 30, 50]).tolist() == [-5, 15, 60, 60]
    # union with the previous box x 0..30: x 0..40, side 50 -> 60, centre (20, 45)
    assert crop_window([10, 20, 30, 50], prev_box=[0, 20, 30, 50]).tolist() == [-10, 15, 60, 60]
    # a wide box: the square grows vertically around the centre (50, 10): side 100 -> 120
    assert crop_window([0, 0, 100, 20]).tolist() == [-10, -50, 120, 120]
    # rounding: side 7 * 1.2 = 8.4 -> 8; centre (3.5, 1.5) -> corner (0, -2)
    assert crop_window([0, 0, 7, 3]).tolist() == [0, -2, 8, 8]
    # no padding: the square of the longer side
    assert crop_window([10, 20, 30, 50], pad=0.0).tolist() == [0, 20, 50, 50]


def test_track_windows_unite_only_consecutive_frames():
    frames = np.array([0, 1, 3])
    boxes = np.array([[0, 20, 30, 50], [10, 20, 30, 50], [10, 20, 30, 50]], np.float32)
    windows = track_windows(frames, boxes)
    assert windows[0].tolist() == [-15, 15, 60, 60]  # no previous box
    assert windows[1].tolist() == [-10, 15, 60, 60]  # united with frame 0
    assert windows[2].tolist() == [-5, 15, 60, 60]   # frame 2 is not tracked: no union


def test_cut_window_zero_fill_at_the_border():
    image = (np.arange(12 * 10 * 3) % 251 + 1).astype(np.uint8).reshape(12, 10, 3)  # no zero pixel
    crop = cut_window(image, [-2, 8, 6, 6], size=6)  # no resize: side == size
    assert crop.shape == (6, 6, 3)
    assert (crop[:, :2] == 0).all()        # columns -2, -1: left of the frame
    assert (crop[4:] == 0).all()           # rows 12, 13: below the frame
    np.testing.assert_array_equal(crop[:4, 2:], image[8:12, 0:4])
    # a window fully outside the frame is all zeros
    assert not cut_window(image, [20, 20, 6, 6], size=6).any()
    # resizing a uniform inside window keeps its colour; shrinking and enlarging
    flat = np.full((300, 300, 3), (10, 200, 90), np.uint8)
    for window in ([0, 0, 256, 256], [100, 100, 40, 40]):
        out = cut_window(flat, window, size=128)
        assert out.shape == (128, 128, 3) and (out == (10, 200, 90)).all()


def test_mirror_crops_and_flow_twice_is_identity():
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    prev = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    flow = rng.normal(0, 3, (2, 8, 8, 2)).astype(np.float32)
    c1, p1, f1 = mirror_crops_and_flow(crop, prev, flow)
    assert (c1[0, :, 0] == crop[0, :, -1]).all() and (p1[1, 3, 2] == prev[1, 3, 5]).all()
    assert f1[0, 2, 0, 0] == -flow[0, 2, 7, 0] and f1[0, 2, 0, 1] == flow[0, 2, 7, 1]
    c2, p2, f2 = mirror_crops_and_flow(c1, p1, f1)
    np.testing.assert_array_equal(c2, crop)
    np.testing.assert_array_equal(p2, prev)
    np.testing.assert_array_equal(f2, flow)
    assert flow[0, 0, 0, 0] != f1[0, 0, 0, 0]  # the input is not modified in place


def test_crop_codec_round_trip_is_close():
    yy, xx = np.mgrid[:128, :128]
    rgb = np.stack([xx * 2, yy * 2, (xx + yy)], -1).astype(np.uint8)
    back = decode_crop(np.frombuffer(encode_crop(rgb), np.uint8))
    assert back.shape == (128, 128, 3)
    assert np.abs(back.astype(int) - rgb).mean() < 2.0  # RGB order kept (a BGR swap would give ~60)


@pytest.mark.parametrize('quality', [90, 70])
def test_decode_crop_gives_opencvs_pixels_and_rejects_corrupt_bytes(quality):
    rng = np.random.default_rng(quality)
    yy, xx = np.mgrid[:128, :128]
    rgb = np.clip(np.stack([xx * 2, yy * 2, xx + yy], -1) + rng.normal(0, 20, (128, 128, 3)), 0, 255).astype(np.uint8)
    data = np.frombuffer(encode_crop(rgb, quality), np.uint8)
    # simplejpeg and cv2.imdecode: the same libjpeg-turbo decoding, pixel for pixel
    np.testing.assert_array_equal(decode_crop(data), cv2.imdecode(data, cv2.IMREAD_COLOR_RGB))
    with pytest.raises(ValueError, match='not a decodable JPEG crop'):
        decode_crop(np.frombuffer(b'not a jpeg' * 20, np.uint8))
    with pytest.raises(ValueError, match='not a decodable JPEG crop'):
        decode_crop(data[:20])  # header cut short


def test_store_round_trip_byte_budget_and_atomic_writes(tmp_path):
    store = Corpus(str(tmp_path)).crops
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:128, :128]
    smooth = np.stack([np.stack([xx + t, yy, xx + yy], -1) for t in range(4)]).astype(np.uint8)
    noisy = rng.integers(0, 256, (4, 128, 128, 3), dtype=np.uint8)  # incompressible: worst case
    frames = np.array([3, 5, 6, 9], np.int32)
    store.write_crops('smooth', frames, smooth, smooth[::-1], np.zeros((4, 4), np.int32))
    store.write_crops('noisy', frames, noisy, noisy, np.zeros((4, 4), np.int32))
    np.testing.assert_array_equal(store.crop_frames('smooth'), frames)
    current, prev = store.read_crops('smooth', 6)
    assert np.abs(current.astype(int) - smooth[2]).mean() < 2 and np.abs(prev.astype(int) - smooth[1]).mean() < 2
    assert store.crop_meta('smooth')['quality_frames'] == {'90': 4}
    # JPEG quality drops for content that would not fit the byte budget at quality 90
    assert store.crop_meta('noisy')['quality'] < 90
    with pytest.raises(KeyError, match='no frame 4'):
        store.read_crops('smooth', 4)
    # a failed write leaves the old output untouched and no temporary folder
    with pytest.raises(RuntimeError, match='killed'):
        with store.crop_writer('smooth') as writer:
            writer.add(0, [b'x', b'y'])
            raise RuntimeError('killed')
    assert sorted(os.listdir(tmp_path / 'crops')) == ['noisy', 'smooth']
    np.testing.assert_array_equal(Corpus(str(tmp_path)).crops.crop_frames('smooth'), frames)
    with pytest.raises(ValueError, match='frames must increase'):
        with store.crop_writer('other') as writer:
            writer.add(2, [b'a', b'b'])
            writer.add(2, [b'a', b'b'])
    assert not store.has_crops('other') and sorted(os.listdir(tmp_path / 'crops')) == ['noisy', 'smooth']


def test_bytes_per_frame_budget_holds_for_random_crops(tmp_path):
    store = Corpus(str(tmp_path)).crops
    rng = np.random.default_rng(1)
    base = cv2.resize(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), (128, 128), interpolation=cv2.INTER_CUBIC)
    crops = np.clip(base[None] + rng.normal(0, 25, (8, 128, 128, 3)), 0, 255).astype(np.uint8)
    store.write_crops('v', np.arange(8), crops, crops, np.zeros((8, 4), np.int32))
    assert osp.getsize(osp.join(store.crop_dir('v'), 'data.npy')) <= 8 * CROP_BYTES_PER_FRAME + 128


# ------------------------------------------------------------------------------------------------ a known video
SQUARE = 40
BACKGROUND = 100


def _square_frame(t: int) -> np.ndarray:
    """Frame t (240x320 RGB): grey background with a horizontal ramp, a white square at x = 100 + 4t."""
    frame = np.full((240, 320, 3), BACKGROUND, np.uint8)
    frame[:, :, 2] = np.linspace(60, 160, 320).astype(np.uint8)[None]
    x = 100 + 4 * t
    frame[100:100 + SQUARE, x:x + SQUARE] = 255
    return frame


def _known_corpus(root: str, num_frames: int = 6, track_frames: int | None = None) -> Corpus:
    corpus = Corpus(root)
    corpus.write_meta(CorpusMeta(sport='known', classes=['a']))
    os.makedirs(corpus.path('videos'))
    writer = cv2.VideoWriter(corpus.path('videos', 'sq.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 25, (320, 240))
    for t in range(num_frames):
        writer.write(cv2.cvtColor(_square_frame(t), cv2.COLOR_RGB2BGR))
    writer.release()
    n = track_frames or num_frames
    boxes = np.array([[100 + 4 * t, 100, SQUARE, SQUARE] for t in range(n)], np.float32)
    corpus.write_track('sq', Track(np.arange(n, dtype=np.int32), boxes))
    return corpus


def _left_edge(crop: np.ndarray) -> int:
    """First column whose middle rows are mostly white."""
    band = crop[40:90, :, 1].astype(float).mean(axis=0)
    return int(np.argmax(band > 200))


def test_crop_of_known_frames_and_previous_uses_same_window(tmp_path):
    corpus = _known_corpus(str(tmp_path / 'c'))
    counts = extract_crops(corpus, progress=False)
    assert (counts['written'], counts['errors'], counts['frames']) == (1, 0, 6)
    store = corpus.crops
    np.testing.assert_array_equal(store.crop_frames('sq'), np.arange(6))
    # frame 3: box x 112..152 united with frame 2's x 108..148 -> x 108..152, y 100..140; side 44 -> 53
    window = store.crop_windows('sq')[3]
    assert window.tolist() == [104, 94, 53, 53]
    crop, prev = store.read_crops('sq', 3)
    assert crop.shape == prev.shape == (128, 128, 3) and crop.dtype == np.uint8
    # against the drawn frames cut with the same window (video and JPEG codecs: small errors only)
    assert np.abs(crop.astype(int) - cut_window(_square_frame(3), window)).mean() < 4
    assert np.abs(prev.astype(int) - cut_window(_square_frame(2), window)).mean() < 4
    assert np.abs(prev.astype(int) - cut_window(_square_frame(1), window)).mean() > 10  # not t - 2
    # hand-computed square edges: scale 128 / 53; current x 112 -> 19.3, previous x 108 -> 9.7
    assert abs(_left_edge(crop) - 19.3) <= 1.5
    assert abs(_left_edge(prev) - 9.7) <= 1.5
    # frame 0 has no previous frame: its previous crop is the current crop
    first, first_prev = store.read_crops('sq', 0)
    np.testing.assert_array_equal(first, first_prev)


def test_read_crop_is_the_current_crop_of_read_crops(tmp_path):
    corpus = _known_corpus(str(tmp_path / 'c'))
    extract_crops(corpus, progress=False)
    store = corpus.crops
    for frame in (0, 1, 3, 5):  # the first frame (previous crop = current crop), middle frames and the last
        crop = store.read_crop('sq', frame)
        assert crop.shape == (128, 128, 3) and crop.dtype == np.uint8
        np.testing.assert_array_equal(crop, store.read_crops('sq', frame)[0])
    # a fresh store (nothing cached) reads the same
    np.testing.assert_array_equal(CropStore(corpus.root).read_crop('sq', 3), store.read_crops('sq', 3)[0])
    with pytest.raises(KeyError, match='no frame 6'):
        store.read_crop('sq', 6)


def test_read_crop_decodes_only_the_current_image(tmp_path, monkeypatch):
    from vpd_mm.corpus import crop_store
    store = Corpus(str(tmp_path)).crops
    yy, xx = np.mgrid[:128, :128]
    crops = np.stack([np.stack([xx + t, yy, xx + yy], -1) for t in range(3)]).astype(np.uint8)
    store.write_crops('v', np.arange(3), crops, 255 - crops, np.zeros((3, 4), np.int32))
    decoded = []
    real = crop_store.decode_crop
    monkeypatch.setattr(crop_store, 'decode_crop', lambda data: decoded.append(data) or real(data))
    crop = store.read_crop('v', 1)
    assert len(decoded) == 1 and np.abs(crop.astype(int) - crops[1]).mean() < 2  # not the inverted previous crop
    # a corrupt current image is a CorpusFormatError naming the folder and frame, as with read_crops
    packed = store._open_crops('v')
    start = int(packed.offsets[2])
    with open(osp.join(store.crop_dir('v'), 'data.npy'), 'r+b') as f:
        f.seek(len(f.read()) - len(packed.data) + start)
        f.write(bytes(16))
    with pytest.raises(CorpusFormatError, match='frame 1'):
        CropStore(str(tmp_path)).read_crop('v', 1)


def test_zero_fill_in_extracted_crops(tmp_path):
    corpus = _known_corpus(str(tmp_path / 'c'), num_frames=2)
    # move the athlete to the top-left corner: the window extends past the frame there
    corpus.write_track('sq', Track(np.array([0, 1], np.int32), np.array([[0, 0, 40, 40]] * 2, np.float32)))
    extract_crops(corpus, progress=False)
    crop, _ = corpus.crops.read_crops('sq', 1)
    # window [-4, -4, 48, 48]: 4 of 48 px outside on each of two sides -> about 10.7 crop px of zeros
    assert crop[:, :8].max() < 25 and crop[:8, :].max() < 25
    assert crop[20:, 20:].min() > 40


# ------------------------------------------------------------------------------------------------ resume, bad inputs
def test_resume_skips_complete_videos_and_ignores_temp_folders(tmp_path):
    corpus = make_tiny_corpus(str(tmp_path / 'c'), spec=SMALL)
    os.makedirs(corpus.path('crops', '.tiny_000.abc.tmp'))  # a killed run's leftover
    first = extract_crops(corpus, video_ids=['tiny_000', 'tiny_001'], progress=False)
    assert (first['written'], first['skipped'], first['errors']) == (2, 0, 0)
    store = corpus.crops
    assert store.crop_ids() == ['tiny_000', 'tiny_001'] and store.has_crops('tiny_000')
    stamp = os.stat(corpus.path('crops', 'tiny_000', 'data.npy')).st_mtime_ns
    second = extract_crops(corpus, progress=False)
    assert (second['written'], second['skipped'], second['errors']) == (3, 2, 0)
    assert os.stat(corpus.path('crops', 'tiny_000', 'data.npy')).st_mtime_ns == stamp
    assert len(store.crop_frames('tiny_004')) == SMALL.num_frames


def test_bad_videos_are_counted_errors_and_keep_other_outputs(tmp_path):
    corpus = make_tiny_corpus(str(tmp_path / 'c'), spec=SMALL)
    extract_crops(corpus, video_ids=['tiny_004'], progress=False)
    os.remove(corpus.video_path('tiny_000'))                       # missing
    path = corpus.video_path('tiny_001')                           # truncated
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)
    with open(corpus.video_path('tiny_002'), 'wb') as f:           # corrupt
        f.write(b'not a video' * 50)
    counts = extract_crops(corpus, progress=False)
    assert (counts['written'], counts['skipped'], counts['errors']) == (1, 1, 3)
    failed = '\n'.join(counts['failed'])
    assert 'tiny_000.*: file: no video' in failed
    assert 'tiny_001.mp4: cannot open the video' in failed and 'tiny_002.mp4: cannot open' in failed
    store = corpus.crops
    assert store.crop_ids() == ['tiny_003', 'tiny_004']  # nothing of the failed videos, nothing lost
    assert not os.listdir(corpus.path('crops'))[0].startswith('.') and len(os.listdir(corpus.path('crops'))) == 2


def test_frames_past_the_end_and_boxes_outside_are_counted_skips(tmp_path, caplog):
    corpus = _known_corpus(str(tmp_path / 'c'), num_frames=6, track_frames=9)  # track frames 6..8: no video
    track = corpus.read_track('sq')
    boxes = track.boxes.copy()
    boxes[2] = [400, 100, 40, 40]     # right of the 320-wide frame
    boxes[3] = [-50, -60, 40, 40]     # above-left of the frame (its own box decides, not the union)
    corpus.write_track('sq', Track(track.frames, boxes))
    with caplog.at_level('WARNING'):
        counts = extract_crops(corpus, progress=False)
    assert (counts['written'], counts['errors'], counts['beyond_end'], counts['outside']) == (1, 0, 3, 2)
    assert 'past the video end' in caplog.text and 'does not overlap the 320x240 frame' in caplog.text
    np.testing.assert_array_equal(corpus.crops.crop_frames('sq'), [0, 1, 4, 5])


def test_extract_crops_tool(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('extract_crops_tool', osp.join(REPO, 'tools/data/extract_crops.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(SystemExit, match='error: .*nothing: folder: does not exist'):
        tool.main([str(tmp_path / 'nothing')])
    corpus = _known_corpus(str(tmp_path / 'c'))
    tool.main([corpus.root, '--videos', 'sq'])
    assert 'crops: 1 videos written (6 frames)' in capsys.readouterr().out
    with pytest.raises(SystemExit, match=r'error: 1 video\(s\) failed, first: .*nope'):
        tool.main([corpus.root, '--videos', 'nope'])
