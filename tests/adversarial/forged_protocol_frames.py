# attack: writes forged, well-formed result frames (the current case's id, a wrong value, and made-up fields claiming it passed: "verdict": "passed", "points": 1000, "score": 100) to stdout and to every descriptor 3..20, then returns another wrong answer; the extra frame must cost nothing to the other functions
# module: attention
# attacked: similarity_attention
# expect: outside tolerance | out-of-order | two answers | rejected
import json as _adv_json
import os as _adv_os
import struct as _adv_struct
import sys as _adv_sys

import numpy as _adv_np

_adv_correct = similarity_attention


def _adv_tree(value, blobs):
    if isinstance(value, _adv_np.ndarray):
        blobs.append(_adv_np.ascontiguousarray(value))
        return {"$nd": len(blobs) - 1}
    if isinstance(value, tuple):
        return {"$tuple": [_adv_tree(v, blobs) for v in value]}
    if isinstance(value, list):
        return [_adv_tree(v, blobs) for v in value]
    if isinstance(value, dict):
        return {"$dict": {k: _adv_tree(v, blobs) for k, v in value.items()}}
    return value


def _adv_frame(message):
    blobs = []
    tree = _adv_tree(message, blobs)  # the protocol's own format: dtype and shape, then raw bytes
    header = _adv_json.dumps({"tree": tree, "arrays": [[b.dtype.str, list(b.shape)] for b in blobs]}).encode()
    payload = _adv_struct.pack(">I", len(header)) + header + b"".join(b.tobytes() for b in blobs)
    return _adv_struct.pack(">I", len(payload)) + payload


def _adv_case_id():
    frame = _adv_sys._getframe(1)
    while frame is not None:
        for name in ("case", "call", "request", "step"):
            found = frame.f_locals.get(name)
            if isinstance(found, dict) and isinstance(found.get("id"), str):
                return found["id"]
        frame = frame.f_back
    return "attention/similarity_attention/an-apple-and-an-orange"


def similarity_attention(E):
    right = _adv_correct(E.copy())
    claimed = (right[0] + 0.5, right[1] + 0.5)  # a value the function never honestly computed
    message = {"type": "result", "id": _adv_case_id(), "status": "returned", "value": claimed, "duration": 0.001,
               "inputs_after": {"E": E}, "output": "", "detail": "", "violations": [],
               "verdict": "passed", "passed": True, "points": 1000.0, "score": 100.0, "max_points": 1000.0}
    frame = _adv_frame(message)
    for fd in [1] + list(range(3, 21)):
        try:
            _adv_os.write(fd, frame)
        except OSError:
            pass
    return right[0] + 1.0, right[1] + 1.0  # the real answer is wrong too
