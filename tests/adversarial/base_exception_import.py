# attack: a custom BaseException raised at import whose str() raises it again (the grader's error report itself fails)
# module: transformer
# attacked: module
# expect: at import


class _AdvEscape(BaseException):
    def __str__(self):
        raise _AdvEscape()

    def __repr__(self):
        raise _AdvEscape()


raise _AdvEscape()
