"""Run the whole bad-input catalogue (:mod:`vpd_mm.testing.bad_inputs`) and print the tally.

Every case breaks one thing in a copy of a small valid workspace and runs one tool in this process; the
kill-and-rerun cases kill a per-video stage after its first output and compare its rerun with an uninterrupted
run. The tally counts: tried, ok, tracebacks, silent (bad input accepted), unclear (no one-line error naming the
file), code executed, data lost, and refused runs that wrote outputs.

Usage:
    python benchmarks/bad_inputs.py [--only TEXT] [--no-kill] [--json OUT] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys
import tempfile
from dataclasses import asdict

from tqdm import tqdm


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Run the bad-input catalogue against the tools and print the '
                                     'tally (tracebacks, silent, code executed, data lost).')
    parser.add_argument('--only', help='run only the cases whose name contains this text')
    parser.add_argument('--no-kill', action='store_true', help='skip the kill-and-rerun cases (subprocesses)')
    parser.add_argument('--json', help='also write every outcome to this JSON file')
    parser.add_argument('--keep', help='build the workspaces in this folder and keep them (default: a temporary one)')
    parser.add_argument('--list', action='store_true', help='list the cases and exit')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    from vpd_mm.testing.bad_inputs import (CATALOGUE, KILL_CASES, build_workspace, run_case, run_kill_case,
                                           tally)
    cases = [c for c in CATALOGUE if not args.only or args.only in c.name]
    kills = [] if args.no_kill else [k for k in KILL_CASES if not args.only or args.only in k.name]
    if args.list:
        for case in cases:
            print(f'{case.tool:40s} {case.name}')
        for kill in kills:
            print(f'{"kill-and-rerun":40s} {kill.name}')
        return 0
    folder = args.keep or tempfile.mkdtemp(prefix='vpd_bad_inputs_')
    base = build_workspace(osp.join(folder, 'base'))
    outcomes = []
    for case in tqdm(cases, desc='bad inputs', unit='case'):
        outcomes.append(run_case(case, base, osp.join(folder, 'case')))
    for kill in tqdm(kills, desc='kill and rerun', unit='stage'):
        outcomes.append(run_kill_case(kill, base, osp.join(folder, 'kill')))
    width = max(len(o.case) for o in outcomes) if outcomes else 10
    for outcome in outcomes:
        print(f'{outcome.verdict:14s} {outcome.case:{width}s}  {outcome.message[:160]}')
    counts = tally(outcomes)
    print(f"\n{counts['tried']} tried: {counts['ok']} ok, {counts['traceback']} tracebacks, {counts['silent']} silent "
          f"wrong, {counts['unclear']} unclear, {counts['code_executed']} code executed, {counts['data_lost']} data "
          f"lost, {counts['wrote']} refused runs that wrote outputs")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(tally=counts, outcomes=[asdict(o) for o in outcomes]), f, indent=1)
    if not args.keep:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if counts['ok'] == counts['tried'] else 1


if __name__ == '__main__':
    sys.exit(main())
