"""The grading engine: load → run (isolated worker) → compare → score → report.

It knows nothing about softmax: the course is data (`assignment.yaml`, `course/`, the
reference). See README.md for the pipeline and the result format.
"""
__version__ = "0.1.0"
