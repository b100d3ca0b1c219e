"""Teachers: the 2D-joint teacher, VIPE* (model, training data from 3D poses, loss) and the mmpose runner.

Each module registers itself on import; add one import line per module below.
"""
from . import (features, mocap, pose3d, pose_runner, vipe_dataset, vipe_input,  # noqa: E402,F401
               vipe_metric, vipe_model)
