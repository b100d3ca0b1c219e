"""All-pairs DTW speed: ``vpd_mm.evaluation.pairwise_dtw`` against dtw-python over the same pairs.

Random sequences (default 200 queries x 1,000 gallery, lengths uniform in [40, 80], d = 64, float32 features as
the corpus stores them), Euclidean frame cost, symmetricP2 with the symmetric2 fallback per pair (the same rule
on both sides: dtw-python raises for pairs without a symmetricP2 path and is then run with symmetric2). Prints the
wall time of both, the speed ratio, and the largest difference between the two results.

dtw-python runs every pair by default (about a minute here). ``--oracle-pairs N`` times it on N random pairs only
and extrapolates per pair; the printout says so.

Usage:
    python benchmarks/dtw_speed.py [--queries 200] [--gallery 1000] [--oracle-pairs 0] [--seed 0]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='All-pairs DTW: vpd_mm (numba) against dtw-python, same pairs.')
    parser.add_argument('--queries', type=int, default=200, help='query sequences (default 200)')
    parser.add_argument('--gallery', type=int, default=1000, help='gallery sequences (default 1000)')
    parser.add_argument('--min-len', type=int, default=40, help='shortest sequence (default 40)')
    parser.add_argument('--max-len', type=int, default=80, help='longest sequence (default 80)')
    parser.add_argument('--dim', type=int, default=64, help='feature dimension (default 64)')
    parser.add_argument('--oracle-pairs', type=int, default=0,
                        help='time dtw-python on this many random pairs and extrapolate (default 0: all pairs)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    return parser.parse_args()


def dtw_python_pair(x: np.ndarray, y: np.ndarray) -> float:
    """dtw-python's normalised distance, symmetricP2, symmetric2 when P2 has no path."""
    from dtw import dtw, symmetric2, symmetricP2
    try:
        return dtw(x, y, dist_method='euclidean', step_pattern=symmetricP2, distance_only=True).normalizedDistance
    except ValueError:
        return dtw(x, y, dist_method='euclidean', step_pattern=symmetric2, distance_only=True).normalizedDistance


def main() -> None:
    args = parse_args()
    from importlib.metadata import version

    import numba

    from vpd_mm.evaluation.dtw import pairwise_dtw

    rng = np.random.default_rng(args.seed)

    def make(count: int) -> list[np.ndarray]:
        return [rng.standard_normal((int(rng.integers(args.min_len, args.max_len + 1)), args.dim))
                .astype(np.float32) for _ in range(count)]

    queries, gallery = make(args.queries), make(args.gallery)
    num_pairs = args.queries * args.gallery
    print(f'{args.queries} queries x {args.gallery} gallery = {num_pairs:,} pairs, lengths '
          f'{args.min_len}-{args.max_len}, d = {args.dim}; CPU cores {os.cpu_count()}, numba threads '
          f'{numba.get_num_threads()}')

    start = time.perf_counter()
    pairwise_dtw(queries[:2], gallery[:2])  # load (or compile) the numba kernels
    print(f'numba warm-up (cache load or compile): {time.perf_counter() - start:.2f} s (not counted)')

    start, cpu = time.perf_counter(), time.process_time()
    ours = pairwise_dtw(queries, gallery, step_pattern='symmetricP2', fallback=True)
    t_ours, cpu_ours = time.perf_counter() - start, time.process_time() - cpu
    q_len = np.array([len(q) for q in queries])[:, None] - 1
    g_len = np.array([len(g) for g in gallery])[None, :] - 1
    no_path = 2 * np.maximum(q_len, g_len) > 3 * np.minimum(q_len, g_len)
    print(f'vpd_mm pairwise_dtw:  {t_ours:8.2f} s  ({1e6 * t_ours / num_pairs:.1f} us/pair; CPU time of all threads '
          f'{cpu_ours:.2f} s; {100 * no_path.mean():.1f}% of pairs have no symmetricP2 path and use the '
          'symmetric2 fallback)')

    if args.oracle_pairs and args.oracle_pairs < num_pairs:
        chosen = rng.choice(num_pairs, size=args.oracle_pairs, replace=False)
        note = f'timed on {args.oracle_pairs:,} random pairs, extrapolated to all {num_pairs:,}'
    else:
        chosen = np.arange(num_pairs)
        note = f'all {num_pairs:,} pairs'
    pairs = [(int(p) // args.gallery, int(p) % args.gallery) for p in chosen]
    reference = np.empty(len(pairs))
    start, cpu = time.perf_counter(), time.process_time()
    for index, (a, b) in enumerate(pairs):
        reference[index] = dtw_python_pair(queries[a], gallery[b])
    t_ref_measured, cpu_ref = time.perf_counter() - start, time.process_time() - cpu
    scale = num_pairs / len(pairs)
    t_ref, cpu_ref = t_ref_measured * scale, cpu_ref * scale
    per_pair = 1e6 * t_ref_measured / len(pairs)
    print(f'dtw-python {version("dtw-python"):9s} {t_ref:8.2f} s  ({per_pair:.1f} us/pair; CPU time {cpu_ref:.2f} s; '
          f'{note}; single-threaded)')
    diff = np.abs(ours[tuple(np.array(pairs).T)] - reference).max()
    print(f'max |vpd_mm - dtw-python| over the compared pairs: {diff:.2e}')
    print(f'speed ratio, wall time (dtw-python / vpd_mm): {t_ref / t_ours:.1f}x  (target >= 20x)')
    print(f'CPU-time ratio (dtw-python / vpd_mm, all threads summed; what one core gains, independent of other '
          f'load on the machine): {cpu_ref / cpu_ours:.1f}x')
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    print(f'1-minute load average at the end: {load:.2f} on {os.cpu_count()} cores (a wall-time ratio measured '
          'while other jobs run understates the 2-thread speed-up)')


if __name__ == '__main__':
    main()
