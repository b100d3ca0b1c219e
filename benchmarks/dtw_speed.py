"""All-pairs DTW speed on the same data: ``vpd_mm.evaluation.pairwise_dtw`` (matrix products + numba), the
previous per-cell implementation (``pairwise_dtw_percell``), dtaidistance's C/OpenMP ``dtw_ndim`` and dtw-python.

Random sequences (default 50 queries x 400 gallery, all 20,000 pairs, lengths uniform in [40, 80], d = 64, seed 0,
float32 features as the corpus stores them), Euclidean frame cost, symmetricP2 with the symmetric2 fallback per
pair (dtw-python raises for pairs without a symmetricP2 path and is then run with symmetric2, the same rule).

Speed is in cells per second: a pair of lengths N and M counts N * M cells (its whole DTW matrix), whatever part of
it an implementation evaluates. dtaidistance has no step patterns and sums squared frame distances (then a square
root), so its distances differ from ours: only its speed is compared. The numbers of ours are the best of
``--repeats`` runs (old and new interleaved, so that other load on the machine hits both alike); CPU time is that
of all threads of the process (what the cores did, whatever else runs on the machine).

Usage:
    python benchmarks/dtw_speed.py [--queries 50] [--gallery 400] [--repeats 5] [--oracle-pairs 0]
        [--torch-device cpu] [--no-dtaidistance] [--seed 0]
"""
from __future__ import annotations

import argparse
import os
import time
from typing import Callable

import numpy as np


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='All-pairs DTW on the same data: vpd_mm (new and previous), dtaidistance and dtw-python, in '
        'cells/s, and the largest relative difference between vpd_mm and dtw-python.')
    parser.add_argument('--queries', type=int, default=50, help='query sequences (default 50)')
    parser.add_argument('--gallery', type=int, default=400, help='gallery sequences (default 400)')
    parser.add_argument('--min-len', type=int, default=40, help='shortest sequence (default 40)')
    parser.add_argument('--max-len', type=int, default=80, help='longest sequence (default 80)')
    parser.add_argument('--dim', type=int, default=64, help='feature dimension (default 64)')
    parser.add_argument('--repeats', type=int, default=5, help='timed runs of each vpd_mm path, best kept (default 5)')
    parser.add_argument('--oracle-pairs', type=int, default=0,
                        help='run dtw-python on this many random pairs only and extrapolate its time '
                        '(default 0: all pairs)')
    parser.add_argument('--torch-device', default=None,
                        help="also time pairwise_dtw(device=...) with torch products, e.g. 'cpu' or 'cuda'")
    parser.add_argument('--no-dtaidistance', action='store_true', help='skip dtaidistance')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    return parser.parse_args()


def dtw_python_pair(x: np.ndarray, y: np.ndarray) -> float:
    """dtw-python's normalised distance, symmetricP2, symmetric2 when P2 has no path."""
    from dtw import dtw, symmetric2, symmetricP2
    try:
        return dtw(x, y, dist_method='euclidean', step_pattern=symmetricP2, distance_only=True).normalizedDistance
    except ValueError:
        return dtw(x, y, dist_method='euclidean', step_pattern=symmetric2, distance_only=True).normalizedDistance


def timed(function: Callable[[], np.ndarray]) -> tuple[np.ndarray, float, float]:
    """``function()``, its wall time and the CPU time of all the process's threads (s)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    args = parse_args()
    from importlib.metadata import version

    import numba

    from vpd_mm.evaluation.dtw import pairwise_dtw, pairwise_dtw_percell

    rng = np.random.default_rng(args.seed)

    def make(count: int) -> list[np.ndarray]:
        return [rng.standard_normal((int(rng.integers(args.min_len, args.max_len + 1)), args.dim))
                .astype(np.float32) for _ in range(count)]

    queries, gallery = make(args.queries), make(args.gallery)
    q_len = np.array([len(q) for q in queries])
    g_len = np.array([len(g) for g in gallery])
    num_pairs = args.queries * args.gallery
    cells = int(q_len.sum() * g_len.sum())
    n1, m1 = q_len[:, None] - 1, g_len[None] - 1
    no_path = 2 * np.maximum(n1, m1) > 3 * np.minimum(n1, m1)
    print(f'{args.queries} queries x {args.gallery} gallery = {num_pairs:,} pairs, lengths {args.min_len}-'
          f'{args.max_len}, d = {args.dim}, seed {args.seed}: {cells / 1e6:.1f} M cells; {100 * no_path.mean():.1f}% '
          f'of the pairs have no symmetricP2 path (symmetric2 fallback)')
    print(f'CPU cores {os.cpu_count()}, numba threads {numba.get_num_threads()}, 1-minute load average '
          f'{os.getloadavg()[0]:.2f}', flush=True)

    paths: dict[str, Callable[[], np.ndarray]] = {
        'vpd_mm pairwise_dtw (products + numba)': lambda: pairwise_dtw(queries, gallery),
        'vpd_mm pairwise_dtw_percell (previous)': lambda: pairwise_dtw_percell(queries, gallery),
    }
    if args.torch_device:
        paths[f"vpd_mm pairwise_dtw(device='{args.torch_device}')"] = \
            lambda: pairwise_dtw(queries, gallery, device=args.torch_device)
    start = time.perf_counter()
    pairwise_dtw(queries[:2], gallery[:2])  # load (or compile) the numba kernels
    pairwise_dtw_percell(queries[:2], gallery[:2])
    if args.torch_device:
        pairwise_dtw(queries[:2], gallery[:2], device=args.torch_device)
    print(f'warm-up (numba cache load or compile): {time.perf_counter() - start:.2f} s (not counted)', flush=True)

    results: dict[str, np.ndarray] = {}
    best: dict[str, tuple[float, float]] = {name: (np.inf, np.inf) for name in paths}
    for repeat in range(args.repeats):
        for name, function in paths.items():
            results[name], wall, cpu = timed(function)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
        print(f'  vpd_mm run {repeat + 1}/{args.repeats} done', flush=True)

    rows: list[tuple[str, float, float, str]] = [(name, wall, cpu, f'best of {args.repeats}')
                                                 for name, (wall, cpu) in best.items()]
    if not args.no_dtaidistance:
        from dtaidistance import dtw_ndim
        series = [np.ascontiguousarray(s, dtype=np.float64) for s in queries + gallery]
        block = ((0, args.queries), (args.queries, args.queries + args.gallery))
        print('dtaidistance dtw_ndim.distance_matrix_fast (C, OpenMP) ...', flush=True)
        dtw_ndim.distance_matrix_fast(series[:3], parallel=True)  # load the C extension
        _, wall, cpu = timed(lambda: dtw_ndim.distance_matrix_fast(series, block=block, parallel=True))
        rows.append((f'dtaidistance {version("dtaidistance")} dtw_ndim', wall, cpu,
                     'C/OpenMP; no step pattern, squared frame costs'))

    if args.oracle_pairs and args.oracle_pairs < num_pairs:
        chosen = rng.choice(num_pairs, size=args.oracle_pairs, replace=False)
        note = f'{args.oracle_pairs:,} random pairs, time extrapolated'
    else:
        chosen = np.arange(num_pairs)
        note = 'all pairs, single-threaded'
    pairs = [(int(p) // args.gallery, int(p) % args.gallery) for p in chosen]
    reference = np.empty(len(pairs))
    print(f'dtw-python on {len(pairs):,} pairs ...', flush=True)
    from tqdm import tqdm
    start, cpu = time.perf_counter(), time.process_time()
    for index, (a, b) in enumerate(tqdm(pairs, unit='pair', mininterval=2.0)):
        reference[index] = dtw_python_pair(queries[a], gallery[b])
    scale = num_pairs / len(pairs)
    rows.append((f'dtw-python {version("dtw-python")}', (time.perf_counter() - start) * scale,
                 (time.process_time() - cpu) * scale, note))

    print(f'\n{"implementation":45s} {"wall s":>8s} {"CPU s":>8s} {"M cells/s":>10s}  notes')
    for name, wall, cpu, notes in rows:
        print(f'{name:45s} {wall:8.3f} {cpu:8.3f} {cells / wall / 1e6:10.1f}  {notes}')
    new_name, old_name = list(paths)[:2]
    print(f'\nspeed-up of pairwise_dtw over the previous implementation: wall '
          f'{best[old_name][0] / best[new_name][0]:.2f}x, CPU time {best[old_name][1] / best[new_name][1]:.2f}x')
    index = tuple(np.array(pairs).T)
    for name in paths:
        ours = results[name][index]
        print(f'max relative difference, {name} vs dtw-python: {np.max(np.abs(ours - reference) / reference):.2e}')
    print(f'max relative difference, new vs previous implementation (all pairs): '
          f'{np.max(np.abs(results[new_name] - results[old_name]) / results[old_name]):.2e}')
    print(f'1-minute load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (other jobs on the '
          'machine lengthen the wall times)')


if __name__ == '__main__':
    main()
