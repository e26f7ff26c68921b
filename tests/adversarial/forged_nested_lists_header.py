# attack: writes, on every descriptor 3..20, a result frame for the current case whose 8 MB header is a list of 2.7 million empty lists (the parser built them all: 3 such frames cost the grader 33 s and 450 MB); the grader must refuse it from its size, before parsing, in linear time
# module: attention
# attacked: similarity_attention
# expect: values | header
import os as _adv_os
import struct as _adv_struct
import sys as _adv_sys

_adv_correct = similarity_attention


def _adv_case_id():
    frame = _adv_sys._getframe(1)
    while frame is not None:
        found = frame.f_locals.get("case")
        if isinstance(found, dict) and isinstance(found.get("id"), str):
            return found["id"]
        frame = frame.f_back
    return "attention/similarity_attention/an-apple-and-an-orange"


def similarity_attention(E):
    header = (b'{"tree": {"$dict": {"type": "result", "id": "' + _adv_case_id().encode()
              + b'", "status": "returned", "value": [' + b"[]," * 2_700_000 + b'[]]}}, "arrays": []}')
    payload = _adv_struct.pack(">I", len(header)) + header
    frame = _adv_struct.pack(">I", len(payload)) + payload
    for fd in range(3, 21):
        try:
            _adv_os.write(fd, frame)
        except OSError:
            pass
    return _adv_correct(E)
