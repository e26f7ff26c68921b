"""Course content the engine reads as data: input generators for random, edge and lecture cases,
and the property checks that explain a failing output (properties.py, with its sentences in
properties.fr.yaml and properties.en.yaml).

`assignment.yaml` names a generator for every case; `grader.grading.cases` calls it with a seeded
`numpy.random.Generator` and the case's parameters. It names this package's property module
(`properties: course.properties`); `grader.grading.properties` runs its checks. Nothing here knows
the expected values.
"""
