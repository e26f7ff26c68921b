"""Course content the engine reads as data: input generators for random, edge and lecture cases.

`assignment.yaml` names a generator for every case; `grader.grading.cases` calls it with a seeded
`numpy.random.Generator` and the case's parameters. Nothing here knows the expected values.
"""
