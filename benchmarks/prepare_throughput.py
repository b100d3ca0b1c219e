"""Throughput of data preparation: crop extraction, optical flow, and the crop/flow storage format.

Generates a synthetic corpus (``make_tiny_corpus`` with a bigger spec) in a temporary folder and prints:

1. crop extraction frames/s (decord decode + window cut + resize + JPEG encode + atomic write), one core;
2. flow frames/s of each method: OpenCV DIS and Farneback (one core), torchvision RAFT small/large (speed only:
   randomly initialised unless ``--raft-weights`` is given; the device is CUDA when available), and the end-point
   error of the OpenCV methods on known translations of a textured crop (why Farneback is the default);
3. the chosen storage (:mod:`vpd_mm.corpus.crop_store`): random-access decode frames/s of one frame's crop +
   previous crop + flow through ``CropStore`` on one core, and bytes per frame on disk, on the synthetic corpus
   and on a stress set (1/f-noise crops, harder to compress than real footage, with non-rigid motion);
4. the candidate codecs behind that choice: bytes and decode time per item (OpenCV's decoders and zlib, and the
   decoders the store uses, simplejpeg and libdeflate, on the same bytes).

Targets (issue 6): random access >= 2,000 frames/s per core, <= 25 KB per frame (crop + previous crop + flow).

Example:
    python benchmarks/prepare_throughput.py                     # about a minute on one CPU core
    python benchmarks/prepare_throughput.py --videos 5 --frames 100 --skip-raft   # quick
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import tempfile
import time
import zlib
from typing import Any, Callable


import cv2  # noqa: E402
import numpy as np  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Measure crop extraction, optical flow and crop/flow storage '
                                     'throughput on a generated corpus.')
    parser.add_argument('--videos', type=int, default=6,
                        help='videos in the generated corpus, at least 5 (train/val/test; default 6)')
    parser.add_argument('--frames', type=int, default=200, help='frames per video (default 200)')
    parser.add_argument('--width', type=int, default=640, help='video width (default 640)')
    parser.add_argument('--height', type=int, default=360, help='video height (default 360)')
    parser.add_argument('--reads', type=int, default=3000, help='random accesses timed (default 3000)')
    parser.add_argument('--raft-pairs', type=int, default=8, help='crop pairs timed per RAFT model (default 8)')
    parser.add_argument('--raft-weights', help='a torchvision RAFT state dict to time (default: random weights)')
    parser.add_argument('--skip-raft', action='store_true', help='do not time RAFT')
    parser.add_argument('--device', help='torch device for RAFT (default: cuda when available, else cpu)')
    parser.add_argument('--json', help='also write the figures to this JSON file')
    args = parser.parse_args(argv)
    if args.videos < 5:
        parser.error(f'--videos must be at least 5 (the corpus needs train, val and test videos), got {args.videos}')
    return args


# ------------------------------------------------------------------------------------------------ helpers
def _best_time(fn: Callable[[], Any], repeats: int = 3) -> float:
    """Best CPU time (seconds, this process, all its threads) of ``repeats`` runs: a per-core figure that other
    jobs on a shared machine do not distort (the work is single-threaded unless said otherwise)."""
    best = float('inf')
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """``(result, cpu seconds, wall seconds)`` of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def _folder_bytes(folder: str) -> int:
    return sum(osp.getsize(osp.join(folder, name)) for name in os.listdir(folder))


def _pink_crops(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stress crops: 1/f-noise RGB textures (more fine detail than real footage), (count, 128, 128, 3) previous
    and current crops, the current one warped by a random smooth non-rigid motion (up to about 8 px)."""
    rng = np.random.default_rng(seed)
    size = 160
    fy, fx = np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None]
    amplitude = 1.0 / np.maximum(np.hypot(fy, fx), 1.0 / size)
    grid = np.mgrid[:size, :size].astype(np.float32)
    prev, current = [], []
    for _ in range(count):
        planes = [np.real(np.fft.ifft2(amplitude * np.exp(2j * np.pi * rng.uniform(size=(size, size)))))
                  for _ in range(3)]
        image = np.stack([(p - p.mean()) / p.std() for p in planes], -1)
        image = 0.7 * image + 0.3 * image.mean(-1, keepdims=True)
        image = np.clip(128 + 45 * image, 0, 255).astype(np.uint8)
        motion = cv2.resize(rng.normal(0, 3, (4, 4, 2)).astype(np.float32), (size, size),
                            interpolation=cv2.INTER_CUBIC) + rng.uniform(-3, 3, 2).astype(np.float32)
        moved = cv2.remap(image, grid[1] - motion[..., 0], grid[0] - motion[..., 1], cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)
        prev.append(image[16:144, 16:144])
        current.append(moved[16:144, 16:144])
    return np.stack(prev), np.stack(current)


def _random_access(store: Any, reads: int, seed: int = 0) -> float:
    """Frames/s of read_crops + read_flow at random (video, frame) positions, on a fresh store (cold cache)."""
    from vpd_mm.corpus.crop_store import CropStore
    rng = np.random.default_rng(seed)
    ids = store.crop_ids()
    frames = {v: store.crop_frames(v) for v in ids}
    picks = [(v, int(rng.choice(frames[v]))) for v in rng.choice(ids, size=reads)]

    def run() -> None:
        fresh = CropStore(store.root)
        for video_id, frame in picks:
            fresh.read_crops(video_id, frame)
            fresh.read_flow(video_id, frame)

    return reads / _best_time(run)


def _bytes_per_frame(store: Any) -> tuple[float, float]:
    crops = sum(_folder_bytes(store.crop_dir(v)) for v in store.crop_ids())
    flow = sum(_folder_bytes(store.flow_dir(v)) for v in store.flow_ids())
    frames = sum(len(store.crop_frames(v)) for v in store.crop_ids())
    return crops / frames, flow / frames


def _epe(method: str) -> float:
    """Mean end-point error (px) of an OpenCV method over 10 known translations (5 whole-pixel, 5 sub-pixel up
    to 12.6 px long) of a smooth random texture, away from the crop border."""
    from vpd_mm.stages.flow import opencv_flow
    rng = np.random.default_rng(1)
    noise = cv2.resize(rng.normal(0, 1, (40, 40, 3)).astype(np.float32), (176, 176), interpolation=cv2.INTER_CUBIC)
    big = np.clip(128 + 60 * noise / noise.std(), 0, 255).astype(np.uint8)
    errors = []
    for dx, dy in [(3, -2), (-5, 1), (0, 7), (8, 8), (12, -4), (2.5, -1.5), (0.3, 0.7), (-4.25, 2.5),
                   (6.5, -6.5), (-10.5, 3.5)]:
        moved = cv2.warpAffine(big, np.float32([[1, 0, dx], [0, 1, dy]]), (176, 176), flags=cv2.INTER_CUBIC)
        flow = opencv_flow(big[24:152, 24:152], moved[24:152, 24:152], method)[16:-16, 16:-16]
        errors.append(np.hypot(flow[..., 0] - dx, flow[..., 1] - dy).mean())
    return float(np.mean(errors))


def _codec_table(prev: np.ndarray, current: np.ndarray) -> list[tuple[str, float, float]]:
    """(name, mean bytes, decode microseconds) of the candidate crop and flow codecs."""
    import deflate

    from vpd_mm.corpus.crop_store import decode_crop, quantize_flow
    from vpd_mm.stages.flow import opencv_flow
    rows = []
    bgr = [cv2.cvtColor(c, cv2.COLOR_RGB2BGR) for c in current]

    def add(name: str, blobs: list[Any], decode: Callable[[Any], Any]) -> None:
        seconds = _best_time(lambda: [decode(b) for b in blobs]) / len(blobs)
        rows.append((name, float(np.mean([len(b) for b in blobs])), seconds * 1e6))

    def image(b: Any) -> Any:
        return cv2.imdecode(b, cv2.IMREAD_COLOR_RGB)

    for quality in (85, 90, 95):
        add(f'crop JPEG q{quality}', [cv2.imencode('.jpg', c, [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
                                      for c in bgr], image)
    add('crop JPEG q90, simplejpeg (ours)', [cv2.imencode('.jpg', c, [cv2.IMWRITE_JPEG_QUALITY, 90])[1]
                                             for c in bgr], decode_crop)  # the crop store's decoder
    add('crop WebP q90', [cv2.imencode('.webp', c, [cv2.IMWRITE_WEBP_QUALITY, 90])[1] for c in bgr], image)
    add('crop PNG (lossless)', [cv2.imencode('.png', c, [cv2.IMWRITE_PNG_COMPRESSION, 6])[1] for c in bgr], image)
    rows.append(('crop raw uint8', 128 * 128 * 3.0, 0.0))
    codes = [quantize_flow(f) for f in opencv_flow(prev, current, 'farneback')]
    planar = [np.ascontiguousarray(np.moveaxis(c, -1, 0)) for c in codes]
    for level in (1, 6, 9):
        add(f'flow int8 zlib-{level}', [zlib.compress(p.tobytes(), level) for p in planar],
            lambda b: np.frombuffer(zlib.decompress(b), np.int8))
    add('flow int8 zlib-6, libdeflate (ours)', [zlib.compress(p.tobytes(), 6) for p in planar],  # the store's decoder
        lambda b: np.frombuffer(deflate.zlib_decompress(b, 2 * 128 * 128), np.int8))
    stacked = [(np.concatenate([p[0], p[1]]).astype(np.int16) + 128).astype(np.uint8) for p in planar]
    add('flow int8 PNG', [cv2.imencode('.png', s, [cv2.IMWRITE_PNG_COMPRESSION, 6])[1] for s in stacked],
        lambda b: cv2.imdecode(b, cv2.IMREAD_GRAYSCALE))
    rows.append(('flow raw int8', 128 * 128 * 2.0, 0.0))
    return rows


# ------------------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cv2.setNumThreads(1)
    from vpd_mm.corpus.crop_store import CropStore
    from vpd_mm.stages.crops import extract_crops
    from vpd_mm.stages.flow import extract_flow, make_flow_fn, opencv_flow
    from vpd_mm.testing import TinyCorpusSpec, make_tiny_corpus

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix='vpd_prepare_') as tmp:
        spec = TinyCorpusSpec(num_videos=args.videos, num_frames=args.frames, width=args.width,
                              height=args.height, action_len=max(8, args.frames // 4))
        corpus = make_tiny_corpus(osp.join(tmp, 'corpus'), seed=0, spec=spec)
        total = args.videos * args.frames
        print(f'corpus: {args.videos} videos x {args.frames} frames, {args.width}x{args.height} (mp4v), '
              f'cv2 threads 1, decord threads 1')

        counts, cpu, wall = _timed(lambda: extract_crops(corpus, progress=False))
        assert counts['errors'] == 0 and counts['frames'] == total, counts
        figures['crop_extraction_fps'] = total / cpu
        print('\nfigures are frames/s per core: frames / CPU seconds of this process (wall-clock in brackets)')
        print(f'\n[crops] extraction (decode + cut + resize + JPEG x2 + write): {total / cpu:8.1f} frames/s '
              f'({total / wall:.1f} wall)')

        store = corpus.crops
        pairs = [store.read_crops(v, int(f)) for v in store.crop_ids()[:2] for f in store.crop_frames(v)[:100]]
        current = np.stack([p[0] for p in pairs])
        prev = np.stack([p[1] for p in pairs])
        print('\n[flow] method       frames/s   EPE on known translations (px)')
        for method in ('farneback', 'dis'):
            fps = len(prev) / _best_time(lambda m=method: opencv_flow(prev, current, m), repeats=2)
            epe = _epe(method)
            figures[f'flow_{method}_fps'] = fps
            figures[f'flow_{method}_epe'] = epe
            print(f'       {method:10s} {fps:9.1f}   {epe:.3f}')
        counts, cpu, wall = _timed(lambda: extract_flow(corpus, method='farneback', progress=False))
        assert counts['errors'] == 0, counts
        figures['flow_farneback_extraction_fps'] = total / cpu
        print(f'       extract_flow(farneback), end to end (decode crops + flow + encode + write): '
              f'{total / cpu:.1f} frames/s ({total / wall:.1f} wall)')
        if not args.skip_raft:
            _time_raft(args, prev, current, figures, make_flow_fn, tmp)

        crop_bytes, flow_bytes = _bytes_per_frame(store)
        fps = _random_access(store, args.reads)
        figures.update(access_fps=fps, crop_bytes=crop_bytes, flow_bytes=flow_bytes)
        print('\n[storage] chosen format: crops JPEG q90 (q80/q70 for chunks over 18 KB/frame), current + previous; '
              'flow int8 zlib-6; per video packed npy arrays, memory-mapped')
        print(f'  synthetic corpus: random access (crop + previous crop + flow) {fps:8.1f} frames/s on one core;'
              f' {crop_bytes + flow_bytes:8.0f} B/frame (crops {crop_bytes:.0f} + flow {flow_bytes:.0f})')

        stress_prev, stress_current = _pink_crops(200)
        stress = CropStore(osp.join(tmp, 'stress'))
        for i in range(4):
            part = slice(50 * i, 50 * i + 50)
            frames = np.arange(50, dtype=np.int32)
            stress.write_crops(f's{i}', frames, stress_current[part], stress_prev[part],
                               np.zeros((50, 4), np.int32))
            stress.write_flow(f's{i}', frames, opencv_flow(stress_prev[part], stress_current[part], 'farneback'),
                              method='farneback')
        crop_bytes, flow_bytes = _bytes_per_frame(stress)
        fps = _random_access(stress, args.reads)
        figures.update(stress_access_fps=fps, stress_crop_bytes=crop_bytes, stress_flow_bytes=flow_bytes)
        used = sorted({stress.crop_meta(v)['quality'] for v in stress.crop_ids()})
        print(f'  1/f-noise stress set: random access (crop + previous crop + flow) {fps:8.1f} frames/s on one core;'
              f' {crop_bytes + flow_bytes:8.0f} B/frame (crops {crop_bytes:.0f} + flow {flow_bytes:.0f}; '
              f'JPEG quality {used})')

        print('\n[codecs] candidate                          synthetic B  decode us | stress B  decode us')
        for (name, size_a, us_a), (_, size_b, us_b) in zip(_codec_table(prev, current),
                                                           _codec_table(stress_prev[:100], stress_current[:100])):
            figures[f'codec {name}'] = dict(synthetic_bytes=size_a, synthetic_us=us_a, stress_bytes=size_b,
                                            stress_us=us_b)
            print(f'  {name:36s} {size_a:10.0f} {us_a:9.0f}  | {size_b:8.0f} {us_b:9.0f}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(figures, f, indent=1)


def _time_raft(args: argparse.Namespace, prev: np.ndarray, current: np.ndarray, figures: dict[str, Any],
               make_flow_fn: Callable[..., Any], tmp: str) -> None:
    import torch
    from torchvision.models.optical_flow import raft_large, raft_small
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if not device.startswith('cuda'):
        torch.set_num_threads(1)  # per-core figure, like the others
    n = min(args.raft_pairs, len(prev))
    candidates = [('raft (given weights)', args.raft_weights)] if args.raft_weights else []
    if not args.raft_weights:
        for name, build in (('raft_small', raft_small), ('raft_large', raft_large)):
            path = osp.join(tmp, name + '.pth')
            torch.save(build(weights=None).state_dict(), path)
            candidates.append((name + ' (random weights)', path))
    for name, path in candidates:
        flow_fn = make_flow_fn('raft', path, device)
        flow_fn(prev[:1], current[:1])  # warm-up
        if device.startswith('cuda'):  # GPU: wall-clock time
            torch.cuda.synchronize()
            start = time.perf_counter()
            flow_fn(prev[:n], current[:n])
            fps = n / (time.perf_counter() - start)
        else:
            fps = n / _best_time(lambda: flow_fn(prev[:n], current[:n]), repeats=2)
        figures[f'flow_{name.split()[0]}_fps_{device}'] = fps
        where = 'GPU, wall-clock' if device.startswith('cuda') else 'one CPU thread'
        print(f'       {name:28s} {fps:9.1f} frames/s on {device} ({where}; 20 iterations)')


if __name__ == '__main__':
    main()
