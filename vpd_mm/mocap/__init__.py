"""DeepMimic motion capture: file format, humanoid layout, interpolation and forward kinematics (numpy/scipy).

Used by VIPE*'s training data (:mod:`vpd_mm.teachers.pose3d`) and by the embedded benchmark's renderer
(:mod:`vpd_mm.mocap_sports`).
"""
