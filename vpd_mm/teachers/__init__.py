"""Teachers: the 2D-joint teacher and VIPE* (model, training data from 3D poses, loss, metric).

Each module registers itself on import; add one import line per module below. The stages that run a teacher
over a corpus live in :mod:`vpd_mm.stages`.
"""
from . import features, pose3d, vipe_dataset, vipe_input, vipe_metric, vipe_model  # noqa: E402,F401
