"""The instructor's commands: release, validate."""
