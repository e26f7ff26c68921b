# attack: computes the right answer, then replaces the input array the worker sends back for the mutation check (the call's args, found through the stack) with something else: a str array of the same shape, a list, an int array of another shape with extra keys holding a 4 MB string, or nothing at all; the check must not crash and must still see the change
# module: attention
# attacked: similarity_attention
# expect: modified
import sys as _adv_sys

_adv_correct = similarity_attention
_adv_calls = [0]


def similarity_attention(E):
    result = _adv_correct(E.copy())
    frame = _adv_sys._getframe(1)
    while frame is not None:
        args = frame.f_locals.get("args")
        if isinstance(args, dict) and "E" in args:
            how = _adv_calls[0] % 4
            if how == 0:
                args["E"] = np.full(E.shape, "zz")
            elif how == 1:
                args["E"] = E.tolist()
            elif how == 2:
                args["E"] = np.arange(7)
                args["extra"] = "x" * 4_000_000
                args["more"] = {"nested": [np.zeros(3)] * 5}
            else:
                args.clear()
            break
        frame = frame.f_back
    _adv_calls[0] += 1
    return result
