"""The actions a baseline (TSN, TRN, GSM, ST-GCN, MS-G3D) trains and tests on: the same ones, with the same
windows, classes, validation carve and few-shot lists as the pose-feature models (``ActionSequenceDataset``).

:func:`select_actions` picks the actions of a split; :class:`CorpusActionDataset` is the base of the baseline
datasets (crops, full frames, poses), which turn each selected action and its window into one mmaction2 sample.

Selection (identical to ``ActionSequenceDataset.split_actions`` plus its class filter):

- ``classes``: the class names in label order (default ``meta.json`` classes); actions of other classes are left
  out and counted in the log (Tennis7 uses 7 of the 11 tennis labels);
- ``carve_val``: when > 0 and the corpus has no ``val`` actions, a seeded class-stratified fraction of ``train``
  (:func:`~vpd_mm.corpus.fewshot.carve_validation`) is ``val`` and leaves ``train`` (FX35, Diving48);
- ``fewshot_file``: an id list (``annotations/fewshot/<k>_<trial>.txt``, read with
  :func:`~vpd_mm.corpus.fewshot.read_fewshot_ids`: empty, unknown or val/test ids are errors naming the file);
  ``train`` keeps only its actions and a carved ``val`` never contains them.

Windows: :func:`~vpd_mm.datasets.sequence.action_window` (``window='sport'``: FSJump6 from 2.5 s before the jump
midpoint, Tennis7 +-0.5 s around contact, FX35 from 0.25 s before the start; ``'action'``: ``[start, end)``),
at the video's own frame rate, clamped to frames >= 0 (each dataset clamps the end to what it has).
"""
from __future__ import annotations

from typing import Any, Sequence

from mmaction.datasets import BaseActionDataset
from mmengine.logging import print_log

from ..corpus.corpus import Action, Corpus, CorpusFormatError
from ..corpus.fewshot import carve_validation, read_fewshot_ids
from .sequence import action_window, video_fps

__all__ = ['select_actions', 'CorpusActionDataset']


def select_actions(corpus: Corpus, split: str, classes: Sequence[str] | None = None, carve_val: float = 0.0,
                   carve_seed: int = 0, fewshot_file: str | None = None) -> tuple[list[Action], list[str]]:
    """The actions of ``split`` after the validation carve, few-shot list and class filter (module docstring).

    Args:
        corpus (Corpus): the corpus.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        classes (Sequence[str], optional): class names in label order; default the corpus classes.
        carve_val (float): fraction of train carved as val when the corpus has no val actions (0: never).
        carve_seed (int): seed of the carve.
        fewshot_file (str, optional): few-shot id list restricting ``train``.

    Returns:
        tuple: the selected actions (corpus order) and the class names (label ``i`` is ``classes[i]``).

    Raises:
        CorpusFormatError: unknown class names; a bad few-shot list.
        ValueError: a bad split name.
    """
    if split not in ('train', 'val', 'test'):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    meta = corpus.read_meta()
    names = list(meta.classes if classes is None else classes)
    unknown = [c for c in names if c not in meta.classes]
    if unknown:
        raise CorpusFormatError(corpus.path('meta.json'), 'classes',
                                f'unknown class names {unknown}; the corpus classes are {meta.classes}')
    actions = corpus.read_actions()
    fewshot = read_fewshot_ids(fewshot_file, actions) if fewshot_file else None
    carved: set[str] = set()
    if carve_val > 0 and not any(a.split == 'val' for a in actions):
        carved = set(carve_validation(actions, carve_val, carve_seed)) - set(fewshot or ())
    if split == 'val' and carved:
        chosen = [a for a in actions if a.id in carved]
    elif split == 'train':
        chosen = [a for a in actions if a.split == 'train' and a.id not in carved]
        if fewshot is not None:
            keep = set(fewshot)
            chosen = [a for a in chosen if a.id in keep]
    else:
        chosen = [a for a in actions if a.split == split]
    known = set(names)
    other = [a for a in chosen if a.label not in known]
    if other:
        print_log(f'{corpus.root} ({split}): left out {len(other)} actions of classes outside the {len(names)} '
                  f'used ({sorted({a.label for a in other})[:5]})', logger='current')
    return [a for a in chosen if a.label in known], names


class CorpusActionDataset(BaseActionDataset):
    """Base of the baseline datasets: one sample per selected action of a corpus split.

    Subclasses implement :meth:`action_info`, which turns an action and its window into the sample's fields (or
    a reason to skip it). Every sample also has ``action_id``, ``video_id``, ``label`` (int), ``window``
    ``(start, end)`` and, from mmaction2, ``modality`` and ``start_index`` (0).

    Args:
        data_root (str): the corpus folder.
        pipeline (list): mmaction2 transforms.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        classes (Sequence[str], optional): class names in label order (default: the corpus classes).
        window (str): ``'sport'`` or ``'action'`` (module docstring).
        carve_val (float): validation carve fraction (0: none).
        carve_seed (int): carve seed.
        fewshot_file (str, optional): few-shot id list for ``train``.
        modality (str): ``'RGB'``, ``'Flow'`` or ``'Pose'``.
        features (str, optional): the name of this input in result documents (``tools/fewshot.py`` writes the
            train dataset's ``features`` into its JSON, ``tools/report.py`` prints it as the row label), e.g.
            ``'TSN (crop)'``. Only a label: nothing is read from it.
        test_mode (bool): mmengine test mode.

    Raises:
        ValueError: no action of the split is usable (every skip is listed in ``self.skipped`` and logged).
    """

    def __init__(self, data_root: str, pipeline: Sequence[Any] = (), split: str = 'train',
                 classes: Sequence[str] | None = None, window: str = 'sport', carve_val: float = 0.0,
                 carve_seed: int = 0, fewshot_file: str | None = None, modality: str = 'RGB',
                 features: str | None = None, test_mode: bool = False, **kwargs: Any) -> None:
        if window not in ('sport', 'action'):
            raise ValueError(f"window must be 'sport' or 'action', got {window!r}")
        self.corpus = Corpus(data_root)
        self.split, self.classes, self.window = split, classes, window
        self.carve_val, self.carve_seed, self.fewshot_file = carve_val, carve_seed, fewshot_file
        self.features = features
        self.skipped: list[tuple[str, str]] = []
        self.class_names: list[str] = []
        super().__init__(ann_file='', pipeline=list(pipeline), data_root=data_root, data_prefix=dict(),
                         modality=modality, test_mode=test_mode, **kwargs)

    @property
    def num_actions(self) -> int:
        """Actions loaded (one sample each)."""
        return len(self)

    def action_info(self, action: Action, start: int, end: int) -> dict[str, Any] | str:
        """The sample fields of ``action`` with window ``[start, end)`` (``start >= 0``), or a skip reason."""
        raise NotImplementedError

    def load_data_list(self) -> list[dict]:
        """Select the actions and build one sample per usable action."""
        owner = f'{type(self).__name__}({self.corpus.root}, split={self.split})'
        actions, self.class_names = select_actions(self.corpus, self.split, self.classes, self.carve_val,
                                                   self.carve_seed, self.fewshot_file)
        self._metainfo['classes'] = tuple(self.class_names)
        if not actions:
            raise ValueError(f'{owner}: no actions of classes {self.class_names}')
        meta = self.corpus.read_meta()
        index = {name: i for i, name in enumerate(self.class_names)}
        data_list, self.skipped = [], []
        for action in actions:
            start, end = action_window(action, meta.sport, video_fps(meta, action.video_id), self.window)
            info = self.action_info(action, max(0, start), end)
            if isinstance(info, str):
                self.skipped.append((action.id, info))
                continue
            data_list.append(dict(info, action_id=action.id, video_id=action.video_id, label=index[action.label],
                                  window=(max(0, start), end)))
        if self.skipped:
            examples = '; '.join(f'{i}: {r}' for i, r in self.skipped[:3])
            print_log(f'{owner}: skipped {len(self.skipped)} of {len(actions)} actions, e.g. {examples}',
                      logger='current', level=30)
        if not data_list:
            raise ValueError(f'{owner}: none of the {len(actions)} actions is usable, e.g. '
                             f'{self.skipped[0][0]}: {self.skipped[0][1]}')
        return data_list
