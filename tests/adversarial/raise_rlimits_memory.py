# attack: lifts its own resource limits (works for root: CAP_SYS_RESOURCE) then allocates past the memory limit (bounded at 4 GiB); returns the right answer only if that worked
# module: attention
# attacked: similarity_attention
# expect: memory
_adv_correct = similarity_attention


def similarity_attention(E):
    import numpy
    try:
        import resource
        for name in ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_RSS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NPROC",
                     "RLIMIT_NOFILE"):
            if hasattr(resource, name):
                try:
                    resource.setrlimit(getattr(resource, name), (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
                except (ValueError, OSError):
                    pass
    except ImportError:
        pass
    hoard = [numpy.ones(2**27) for _ in range(4)]  # 4 GiB touched: twice the grader's 2 GiB
    del hoard
    return _adv_correct(E)  # only reached when the memory limit did not hold
