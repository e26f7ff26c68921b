"""`grade bulk`: intake of a class, the pool of graders, resume, Dask."""
