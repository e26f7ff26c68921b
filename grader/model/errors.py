"""Errors the grader reports to its user, each with what to do next (exit status 2)."""


class GraderError(Exception):
    """A usage, configuration or unreadable-submission problem: shown without a traceback."""


class AssignmentError(GraderError):
    """The assignment file is invalid; the message names the file, key and line."""
