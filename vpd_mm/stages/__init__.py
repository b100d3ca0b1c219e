"""The per-video stages of the pipeline (``design.md`` section 1), each on one runner
(:func:`~vpd_mm.stages.runner.for_each_video`) that owns skipping, resuming, the error policy, the stats and
the worker pool.

============================  ==============================================  ==============================
module                        writes                                          tool
============================  ==============================================  ==============================
:mod:`.mocap_sports`          ``videos/``, ``tracks/``, ``gt_pose/``          ``tools/data/make_mocap_sports.py``
:mod:`.tracking`              ``tracks/`` (person detector + ByteTrack)       ``tools/data/track_athletes.py``
:mod:`.pose_mmpose`           ``pose/`` (mmpose top-down)                     ``tools/data/extract_pose.py``
:mod:`.pose_mediapipe`        ``pose/`` (MediaPipe Pose)                      ``tools/data/extract_pose_mediapipe.py``
:mod:`.crops`                 ``crops/``                                      ``tools/data/extract_crops.py``
:mod:`.flow`                  ``flow/``                                       ``tools/data/extract_flow.py``
:mod:`.teacher_features`      ``teacher/<name>/``                             ``tools/extract_teacher.py``
:mod:`.student_features`      ``features/<name>/``                            ``tools/extract_features.py``
============================  ==============================================  ==============================
"""
from .runner import StageResult, for_each_video  # noqa: F401
from .crops import extract_crops  # noqa: F401
from .flow import extract_flow  # noqa: F401
from .teacher_features import concat_on_corpus, teacher_on_corpus  # noqa: F401
from .student_features import StudentExtractor, extract_features, load_student  # noqa: F401
from .tracking import track_athletes  # noqa: F401

__all__ = ['StageResult', 'for_each_video', 'extract_crops', 'extract_flow', 'teacher_on_corpus',
           'concat_on_corpus', 'StudentExtractor', 'extract_features', 'load_student', 'track_athletes']
