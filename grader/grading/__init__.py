"""Grading one submission: read it, check its rules, build the cases and their expected values, compare, diagnose, score."""
