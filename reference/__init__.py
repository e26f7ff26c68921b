"""Hidden reference solutions (instructor side; never shipped to students).

Same modules and signatures as `exercises/`, written to the letter of
`docs/contract.md`: one short vectorised NumPy function per idea, named after the
lecture's formulas.
"""
