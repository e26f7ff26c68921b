"""The data every stage shares: the assignment, the result, errors, the replay command."""
