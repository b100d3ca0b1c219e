"""The one per-video loop every stage runs on: skipping, resuming, the error policy, the stats and the pool.

A stage is two functions over a video id: ``done(video_id)`` says whether the video's output is complete (every
stage writes atomically, so "exists" means "complete"), and ``work(video_id)`` computes and writes it and
returns the video's counters (``{'frames': 120, ...}``). :func:`for_each_video` runs ``work`` on every video that
is not done (or on all of them with ``overwrite``), in this process or in a pool of worker processes, and
returns one summary with the same keys for every stage:

- ``videos``: videos asked for; ``written``: videos whose output this run wrote; ``skipped``: videos already
  complete; ``errors``: videos that failed; ``failed``: one ``'file: problem'`` line per failed video;
- ``seconds``: wall time of the work; plus the sum of every counter the ``work`` calls returned.

Errors: a :class:`StageError` (or a :class:`~vpd_mm.corpus.CorpusFormatError`) is the video's problem: with
``on_error='count'`` it is logged and counted and the other videos go on; with ``on_error='raise'`` the first one
stops the run. Any other exception is a bug and always propagates. Outputs already written stay written.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import time
from typing import Any, Callable, Literal, Sequence

from tqdm import tqdm

from ..corpus import CorpusFormatError
from ..corpus.atomic import remove_stale_temps
from ..utils.cli import InputError

__all__ = ['StageError', 'VideoReadError', 'StageResult', 'for_each_video', 'worker_pool', 'summary_line']

logger = logging.getLogger(__name__)

StageResult = dict[str, Any]
"""``{'videos', 'written', 'skipped', 'errors', 'failed', 'seconds', **counters}`` (see the module docstring)."""

class StageError(InputError, RuntimeError):
    """One video cannot be processed (unreadable input, missing upstream output); the message names the file."""


class VideoReadError(StageError):
    """A video is missing, cannot be opened, or a frame it claims to have cannot be decoded."""


PROBLEMS = (StageError, CorpusFormatError)


def worker_pool(workers: int) -> Any:
    """A process pool of ``workers`` processes (fork where the platform has it, else spawn)."""
    method = 'fork' if 'fork' in mp.get_all_start_methods() else 'spawn'
    return mp.get_context(method).Pool(workers)


def _call(job: tuple[Callable[[str], dict[str, Any] | None], str]) -> tuple[str, dict[str, Any] | None, str | None]:
    """Run one video's work; a video's problem comes back as text (exceptions with custom signatures do not
    survive pickling between processes)."""
    work, video_id = job
    try:
        return video_id, work(video_id) or {}, None
    except PROBLEMS as error:
        return video_id, None, str(error)


def for_each_video(ids: Sequence[str], work: Callable[[str], dict[str, Any] | None], *,
                   done: Callable[[str], bool] | None = None, overwrite: bool = False, workers: int = 1,
                   on_error: Literal['count', 'raise'] = 'count', desc: str = 'videos', progress: bool = True,
                   log: Callable[[str], None] | None = None, counters: Sequence[str] = (),
                   outputs: Sequence[str] = ()) -> StageResult:
    """Run ``work`` on every video of ``ids`` whose output is not complete yet.

    Args:
        ids (Sequence[str]): the videos, in order.
        work (Callable[[str], dict]): computes and writes one video's output; returns its counters (numbers,
            summed over videos). With ``workers > 1`` it must be picklable (a module-level function or a
            ``functools.partial`` of one).
        done (Callable[[str], bool], optional): whether a video's output is complete; such videos are skipped
            unless ``overwrite``. None: nothing is skipped. It may raise :class:`StageError` for an output that
            conflicts with this run (that video then fails like one whose work failed).
        overwrite (bool): recompute complete videos too.
        workers (int): processes; 1 runs in this process.
        on_error (str): ``'count'`` (log, count, go on) or ``'raise'`` (stop at the first failed video).
        desc (str): progress bar label (the stage's name).
        progress (bool): show a tqdm bar over videos.
        log (callable, optional): receives one summary line when videos were written or failed.
        counters (Sequence[str]): counter names present (as 0) in the summary even when no video was written.
        outputs (Sequence[str]): the stage's output folders; temporary files that killed runs left there are
            removed first (:func:`~vpd_mm.corpus.atomic.remove_stale_temps`), counted as ``stale_temps``.

    Returns:
        dict: ``videos``, ``written``, ``skipped``, ``errors``, ``failed``, ``seconds`` and the summed counters.

    Raises:
        StageError | CorpusFormatError: the first failed video with ``on_error='raise'``.
        ValueError: an unknown ``on_error``.
    """
    if on_error not in ('count', 'raise'):
        raise ValueError(f"on_error must be 'count' or 'raise', got {on_error!r}")
    stale = sum(remove_stale_temps(folder) for folder in outputs)
    ids = list(ids)
    todo, conflicts = [], []
    for video_id in ids:
        try:
            if overwrite or done is None or not done(video_id):
                todo.append(video_id)
        except PROBLEMS as error:  # existing output that conflicts with this run (e.g. another method's)
            if on_error == 'raise':
                raise
            conflicts.append((video_id, str(error)))
    result: StageResult = dict(videos=len(ids), written=0, skipped=len(ids) - len(todo) - len(conflicts),
                               errors=0, failed=[], seconds=0.0)
    result.update({name: 0 for name in counters})
    if stale:
        result['stale_temps'] = stale
    begin = time.perf_counter()
    bar = tqdm(total=len(ids), initial=result['skipped'], desc=desc, unit='video', disable=not progress)

    def record(video_id: str, counters: dict[str, Any] | None, problem: str | None) -> None:
        if problem is not None:
            result['errors'] += 1
            result['failed'].append(problem)
            logger.error('%s: %s failed: %s', desc, video_id, problem)
            if on_error == 'raise':
                raise StageError(problem)
        else:
            result['written'] += 1
            for key, value in (counters or {}).items():
                result[key] = result.get(key, 0) + value
        bar.update()
        bar.set_postfix(errors=result['errors'])

    try:
        for video_id, problem in conflicts:
            record(video_id, None, problem)
        jobs = [(work, v) for v in todo]
        if workers > 1 and len(jobs) > 1:
            with worker_pool(workers) as pool:
                for outcome in pool.imap_unordered(_call, jobs):
                    record(*outcome)
        else:
            for job in jobs:
                if on_error == 'raise':  # in this process: the video's own exception, unchanged
                    record(job[1], job[0](job[1]) or {}, None)
                else:
                    record(*_call(job))
    finally:
        bar.close()
        result['seconds'] = time.perf_counter() - begin
    if log is not None and (result['written'] or result['errors']):
        log(f'{desc}: wrote {result["written"]} of {len(ids)} videos, skipped {result["skipped"]} complete, '
            f'{result["errors"]} failed ({result["seconds"]:.1f} s, {workers} worker(s))')
    return result


def summary_line(result: StageResult) -> str:
    """One line for a tool to print: ``wrote 3 of 5 videos, 1 complete, 1 failed; frames 812, ...``."""
    counters = [f'{key} {value}' for key, value in result.items()
                if key not in ('videos', 'written', 'skipped', 'errors', 'failed', 'seconds')
                and isinstance(value, (int, float))]
    line = (f'wrote {result["written"]} of {result["videos"]} videos, {result["skipped"]} already complete, '
            f'{result["errors"]} failed')
    return line + ('; ' + ', '.join(counters) if counters else '')
