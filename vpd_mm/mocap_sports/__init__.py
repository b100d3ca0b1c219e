"""The embedded benchmark: rendered athletes performing real motion capture, and a real off-the-shelf teacher.

- :mod:`.motion`: routines of cross-faded DeepMimic clips (read and posed by :mod:`vpd_mm.mocap`), mirroring.
- :mod:`.render`: the thick humanoid in pybullet's CPU renderer, composited on a moving background; camera and
  projection.
- :mod:`.scene`: one routine video: scene, ground-truth pass, motion-blurred exposures.
- :mod:`.plan`: the ``mocap_sports`` classes, presets and seeded instances (the corpus writer is the stage
  :mod:`vpd_mm.stages.mocap_sports`).
- :mod:`.groundtruth`: ``gt_pose/<video>.npz``, the ground-truth 2D joints (same fields as ``pose/``).
- :mod:`.pck`: the teacher's PCK@0.2 against the ground truth on sharp/blurred and slow/fast frames.

Nothing here is imported by ``import vpd_mm``; import the submodules explicitly. pybullet and mediapipe are
imported inside the functions that need them.
"""
