"""Copied into every worker and run there, out of the grader's package: standard library and
NumPy only, importing each other as top-level modules (`import protocol`), never a grader
module (tests/test_layout.py checks it). The grader imports `protocol` from here too."""
