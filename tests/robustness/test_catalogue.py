"""The bad-input catalogue as tests: every bad input ends in exit status 2 and one ``error:`` line naming the file
(or a counted skip naming it), with no traceback, no planted code run, nothing already written lost, and nothing
written by a refused run; every per-video stage resumes byte-identical after a SIGKILL.

``benchmarks/bad_inputs.py`` runs the same cases and prints the tally.
"""
from __future__ import annotations

import os
import os.path as osp

import pytest

from vpd_mm.testing.bad_inputs import (CATALOGUE, KILL_CASES, Case, Outcome, Workspace, build_workspace, run_case,
                                       run_kill_case, tally)


@pytest.fixture(scope='module')
def base(tmp_path_factory) -> Workspace:
    return build_workspace(str(tmp_path_factory.mktemp('bad_inputs') / 'base'))


def test_the_catalogue_is_large_and_covers_every_loader():
    assert len(CATALOGUE) >= 60 and len({c.name for c in CATALOGUE}) == len(CATALOGUE)
    names = ' '.join(c.name for c in CATALOGUE)
    for loader in ('zip checkpoint', 'legacy format', 'plain pickle', 'meta.cfg with code', 'video_meta.pkl',
                   'skeleton .pkl', 'object array', 'another model', 'other shapes', 'truncated'):
        assert loader in names, loader


@pytest.mark.parametrize('case', CATALOGUE, ids=[c.name for c in CATALOGUE])
def test_bad_input(case: Case, base: Workspace, tmp_path):
    outcome = run_case(case, base, str(tmp_path / 'case'))
    assert outcome.verdict == 'ok', (outcome.verdict, outcome.exit_code, outcome.message, outcome.details)
    assert outcome.message.startswith('error: ') and '\n' not in outcome.message


@pytest.mark.slow
@pytest.mark.parametrize('case', KILL_CASES, ids=[k.name for k in KILL_CASES])
def test_killed_stage_resumes_identical(case, base: Workspace, tmp_path):
    outcome = run_kill_case(case, base, str(tmp_path / 'kill'))
    assert outcome.verdict == 'ok', (outcome.message, outcome.details)


def test_the_classifier_flags_what_it_should(base: Workspace, tmp_path):
    """The verdicts themselves: a case whose tool accepts the input is 'silent', a planted marker is
    'code_executed', an argparse error names no file ('unclear'); the tally counts every verdict."""
    fine = Case('valid corpus', 'tools/data/extract_crops.py', lambda s: [s.corpus], lambda s: s.corpus)
    assert run_case(fine, base, str(tmp_path / 'a')).verdict == 'silent'

    def plant(space: Workspace) -> list[str]:
        open(space.marker, 'w').close()
        return [space.path('nowhere')]
    assert run_case(Case('marker', 'tools/data/extract_crops.py', plant, lambda s: 'nowhere'), base,
                    str(tmp_path / 'b')).verdict == 'code_executed'
    lost = Case('overwrite', 'tools/data/extract_crops.py', lambda s: [s.corpus, '--overwrite-everything'],
                lambda s: s.corpus)
    assert run_case(lost, base, str(tmp_path / 'c')).verdict == 'unclear'  # argparse: exit 2, no file named

    def break_after(space: Workspace) -> list[str]:
        os.remove(osp.join(space.corpus, 'meta.json'))
        return [space.corpus]
    outcome = run_case(Case('stale', 'tools/data/extract_crops.py', break_after, lambda s: 'meta.json'), base,
                       str(tmp_path / 'd'))
    assert outcome.verdict == 'ok'  # the file was removed before the snapshot: not the tool's doing
    assert tally([outcome, Outcome('x', 't', 'silent', 0, '')]) == dict(
        tried=2, ok=1, traceback=0, silent=1, unclear=0, code_executed=0, data_lost=0, wrote=0)
