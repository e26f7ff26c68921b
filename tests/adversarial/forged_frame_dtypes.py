# attack: writes, on every descriptor 3..20, a result frame for the current case whose array has a dtype code no honest worker sends (<i16, <U0, |O, <f16, <c16, <M8[ns], |V8, =f8, a 9-digit <U), then returns the right answer: decoding such a frame raised TypeError or ValueError out of the grader; it must be a protocol error for that case alone
# module: attention
# attacked: similarity_attention
# expect: not accepted
import json as _adv_json
import os as _adv_os
import struct as _adv_struct
import sys as _adv_sys

_adv_correct = similarity_attention
_adv_dtypes = ["<i16", "<U0", "|O", "<f16", "<c16", "<M8[ns]", "|V8", "=f8", "<U999999999"]


def _adv_case_id():
    frame = _adv_sys._getframe(1)
    while frame is not None:
        found = frame.f_locals.get("case")
        if isinstance(found, dict) and isinstance(found.get("id"), str):
            return found["id"]
        frame = frame.f_back
    return "attention/similarity_attention/an-apple-and-an-orange"


def similarity_attention(E):
    case_id = _adv_case_id()
    dtype = _adv_dtypes[sum(map(ord, case_id)) % len(_adv_dtypes)]
    message = {"$dict": {"type": "result", "id": case_id, "status": "returned", "value": {"$nd": 0},
                         "duration": 0.001, "output": "", "violations": []}}
    header = _adv_json.dumps({"tree": message, "arrays": [[dtype, [2, 2]]]}).encode()
    payload = _adv_struct.pack(">I", len(header)) + header + b"\0" * 64
    frame = _adv_struct.pack(">I", len(payload)) + payload
    for fd in range(3, 21):
        try:
            _adv_os.write(fd, frame)
        except OSError:
            pass
    return _adv_correct(E)
