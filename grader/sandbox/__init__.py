"""Running students' code: the supervisor, the worker backends, limits, temporary folders."""
