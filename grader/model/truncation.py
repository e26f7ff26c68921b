"""How much of a text or a list each output shows: the truncation limits, named once.

Every text a submission controls (an exception's message, what it printed, a value) and every
list it can make long (inputs, notes, problems) is cut before it is shown; the limits live here
so that the same kind of text is cut the same way in every output."""

SETTING = 40              # characters of a bad setting's value quoted back (an environment variable, a cell kind)
CODE_LINE = 80            # characters of a line of the submission's code quoted in a message
FIELD = 200               # characters of one field of the isolation record, of a grader failure's text
MESSAGE = 300             # characters of an exception's or a job's error text, of what an import printed
WORKER_LOG_TAIL = 1500    # characters of a worker's log shown when it could not start
LISTED = 50               # items of a list shown (a case's inputs, a dict's keys, problems, notes)
LISTED_SHORT = 20         # items of a list in a step summary (GitHub), where space is short
GRADESCOPE_OUTPUT = 20_000  # characters of a Gradescope test's output (its page gets slow beyond)
