"""Values on the wire, without pickle: a JSON tree whose arrays travel as raw bytes.

Used both ways between the grader and its worker, and for the public-cases file. Standalone
(standard library + NumPy) because the worker runs it from a copy, outside the grader package.

A message is `len(header) (4 bytes) | header JSON | blob | blob …`; the header's tree stands
for the value, with `{"$nd": k}` for the k-th array, `{"$tuple": [...]}` for a tuple and
`{"$dict": {...}}` for a dict; `arrays` gives each blob's dtype (a plain `<f8`-style code) and
shape. Decoding checks everything and trusts nothing: dtypes (an exact list of plain codes:
bool/int/float and, in inputs, unicode), shapes, sizes, nesting, the number of values in the
tree and, for a worker's frames, the header's size (`max_header`), before anything is built;
whatever else is wrong with a message raises ProtocolError, never anything else (the fuzz test
in tests/test_hostile_values.py). Each bound is linear in the message's bytes: no frame costs
the grader more than a few times its size, in memory or in time. (Raw bytes rather than `.npy`:
parsing a `.npy` header evaluates a Python literal, which cost 0.3 ms per array.)
"""
import gc
import json
import os
import socket
import struct

import numpy as np

MAX_MESSAGE = 256 * 2**20      # bytes in one message
MAX_ELEMENTS = 16 * 2**20      # elements in one returned array
MAX_DEPTH = 12
MAX_HEADER = 1 << 20           # bytes of JSON in one frame from a worker (legit headers: a few KB)
MAX_NODES = 1 << 20            # values in one message's tree (lists, dicts, strings, numbers…)
MAX_UNICODE = 4096             # characters in one element of a str array (words, tokens)
MAX_VIOLATIONS = 20            # refusals a worker reports per step: enough to say what was tried
MAX_CONTROL = 1 << 16          # bytes in one control message (grader <-> worker template)
WORKING_ROOM = 64 * 2**20      # address space a worker needs beyond its start to import and run anything
EXIT_MEMORY = 87               # the worker's watchdog ended it: over its memory cap
EXIT_ORPHAN = 88               # the worker's watchdog ended it: the grader is gone
ARRAY_KINDS = "biuf"           # what student outputs may hold
INPUT_KINDS = "biufU"          # what the grader's own inputs may hold


class ProtocolError(ValueError):
    """A message that is not what the protocol allows (too large, malformed, wrong types)."""


class Unsupported(TypeError):
    """A value that cannot travel (the worker reports it as "not an array")."""


# exact types that travel as they are (and, in a tree, need no call of their own)
_ATOMS = frozenset((type(None), bool, int, str))
_INF, _NINF = float("inf"), float("-inf")


def _encode_tree(value, blobs, depth=0):
    if depth > MAX_DEPTH:
        raise Unsupported("nested more than %d levels deep" % MAX_DEPTH)
    kind = type(value)  # exact types only: subclasses could run code when converted
    if kind in _ATOMS:
        return value
    if kind is float:
        return {"$float": repr(value)} if value != value or value == _INF or value == _NINF else value
    # a container's plain members are taken as they are, without a call each (the depth they
    # would be checked at, depth + 1, is checked here: the same values are refused)
    inline = depth < MAX_DEPTH
    if kind is dict:
        for k in value:
            if type(k) is not str:
                raise Unsupported("a dict with non-string keys")
        if inline:
            return {"$dict": {k: v if type(v) in _ATOMS else _encode_tree(v, blobs, depth + 1)
                              for k, v in value.items()}}
        return {"$dict": {k: _encode_tree(v, blobs, depth + 1) for k, v in value.items()}}
    if kind is list:
        if inline:
            return [v if type(v) in _ATOMS else _encode_tree(v, blobs, depth + 1) for v in value]
        return [_encode_tree(v, blobs, depth + 1) for v in value]
    if kind is tuple:
        if inline:
            return {"$tuple": [v if type(v) in _ATOMS else _encode_tree(v, blobs, depth + 1) for v in value]}
        return {"$tuple": [_encode_tree(v, blobs, depth + 1) for v in value]}
    if kind is np.str_:
        return str(value)
    if kind is np.ndarray or isinstance(value, np.generic) and kind.__module__ == "numpy":
        array = np.asarray(value) if kind is not np.ndarray else value
        if array.size > MAX_ELEMENTS:  # e.g. a stride trick: never copy it
            raise Unsupported("an array of shape %s (more than %d elements)" % (array.shape, MAX_ELEMENTS))
        if array.dtype.kind not in INPUT_KINDS or array.dtype.hasobject:
            raise Unsupported("an array of dtype %s (only bool, int and float arrays are accepted)" % array.dtype)
        blobs.append(array)
        return {"$nd": len(blobs) - 1}
    raise Unsupported("a value of type %s.%s" % (kind.__module__, kind.__qualname__))


def split(value):
    """(JSON-able tree, list of arrays) for `value`; raises Unsupported for anything else."""
    arrays = []
    return _encode_tree(value, arrays), arrays


def join(tree, arrays, kinds=INPUT_KINDS):
    """The inverse of `split`, checking every array."""
    for array in arrays:
        if type(array) is not np.ndarray or array.dtype.kind not in kinds or array.dtype.hasobject:
            raise ProtocolError("an array of dtype %s is not accepted" % getattr(array, "dtype", "?"))
    return _decode_tree(tree, arrays, 0)


# json.dumps's own encoder, without its check for cycles: a tree `split` made has none (its depth is bounded)
_dumps = json.JSONEncoder(check_circular=False).encode
_LENGTH = struct.Struct(">I")


def encode(value) -> bytes:
    """Bytes for `value` (raises Unsupported for anything but plain data)."""
    tree, arrays = split(value)
    arrays = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in arrays]
    header = _dumps({"tree": tree, "arrays": [[a.dtype.str, list(a.shape)] for a in arrays]}).encode()
    return b"".join([_LENGTH.pack(len(header)), header, *[a.tobytes() for a in arrays]])


# {dtype code: kind}: the exact codes `encode` writes for what may travel (NumPy's own
# `dtype.str`), nothing else: no `=`, no 16-byte or platform-dependent types, no structured,
# object, datetime or zero-width dtype ever reaches np.dtype(). Str arrays: see _kind_of.
_DTYPES = {"|b1": "b", "|i1": "i", "|u1": "u",
           **{"%s%s%d" % (order, kind, size): kind for order in "<>" for kind in "iuf" for size in (2, 4, 8)}}


_DTYPE_OBJECTS = {}  # {accepted dtype code: np.dtype}, filled as codes are met


def _kind_of(code: str):
    """The kind of an accepted dtype code, else None; `<U7`/`>U7` for 1 to MAX_UNICODE characters,
    written as NumPy writes it (plain decimal, no sign, no leading zero)."""
    kind = _DTYPES.get(code)
    if kind is None and code[:2] in ("<U", ">U"):
        length = code[2:]
        if length.isascii() and length.isdigit() and length[0] != "0" and int(length) <= MAX_UNICODE:
            kind = "U"
    return kind


def _array_spec(spec, kinds):
    """(dtype, shape, byte count) of one array, from the header, before anything is allocated."""
    if type(spec) is not list or len(spec) != 2 or type(spec[0]) is not str or type(spec[1]) is not list \
            or len(spec[1]) > 32 or not all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in spec[1]):
        raise ProtocolError("an array with a malformed description")
    kind = _kind_of(spec[0])
    if kind is None or kind not in kinds:
        raise ProtocolError("an array of dtype %r, which is not accepted" % spec[0][:20])
    dtype = _DTYPE_OBJECTS.get(spec[0])
    if dtype is None:
        dtype = np.dtype(spec[0])
        if len(_DTYPE_OBJECTS) < 256:
            _DTYPE_OBJECTS[spec[0]] = dtype
    count = 1
    for n in spec[1]:
        count *= n
    if count > MAX_ELEMENTS:
        raise ProtocolError("an array of shape %s is too large" % (tuple(spec[1]),))
    return dtype, tuple(spec[1]), count * dtype.itemsize


def _check_text(data, dtype, offset, size):
    """A str array's bytes may hold any 32-bit value: only Unicode scalar values (no surrogate,
    nothing above U+10FFFF) make a text that can be printed and written later."""
    points = np.frombuffer(data, dtype.byteorder.replace("|", "=") + "u4", size // 4, offset)
    if np.any((points > 0x10FFFF) | ((points >= 0xD800) & (points <= 0xDFFF))):
        raise ProtocolError("a str array holding invalid characters")


def _text(value: str) -> str:
    """A JSON string may escape a lone surrogate ("\\ud800"): such a text could be neither printed
    nor written as UTF-8 later, so each lone surrogate becomes U+FFFD here."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


_NUMBERS = frozenset((type(None), bool, int, float))


def _decode_tree(tree, arrays, depth):
    """The value of a parsed header's tree; lists are decoded in place (no second copy)."""
    if depth > MAX_DEPTH:
        raise ProtocolError("nested too deeply")
    kind = type(tree)
    if kind in _NUMBERS:
        return tree
    if kind is str:
        return _text(tree)
    # a container's numbers and ASCII texts are taken as they are, without a call each (the
    # depth they would be checked at, depth + 1, is checked here: the same trees are refused)
    inline = depth < MAX_DEPTH
    if kind is list:
        for i, v in enumerate(tree):
            t = type(v)
            if not (inline and (t in _NUMBERS or t is str and v.isascii())):
                tree[i] = _decode_tree(v, arrays, depth + 1)
        return tree
    if kind is dict and len(tree) == 1:
        (tag, inner), = tree.items()
        if tag == "$nd" and type(inner) is int and 0 <= inner < len(arrays):
            return arrays[inner]
        if tag == "$float" and type(inner) is str and inner in ("nan", "inf", "-inf"):
            return float(inner)
        if tag == "$tuple" and type(inner) is list:
            return tuple(_decode_tree(v, arrays, depth + 1) for v in inner)
        if tag == "$dict" and type(inner) is dict:
            if inline:
                return {k if k.isascii() else _text(k):
                        v if type(v) in _NUMBERS or type(v) is str and v.isascii() else _decode_tree(v, arrays, depth + 1)
                        for k, v in inner.items()}
            return {_text(k): _decode_tree(v, arrays, depth + 1) for k, v in inner.items()}
    raise ProtocolError("an unexpected element in the message")


def _most_values(data: bytes, start: int, end: int) -> int:
    """An upper bound on the number of values the JSON text data[start:end] holds, from three
    byte counts (strings' contents included, so never too low), without copying it: every value
    but the first opens an array or follows a comma, and an object's key and value each follow
    its colon."""
    return 1 + data.count(b"[", start, end) + data.count(b",", start, end) + 2 * data.count(b":", start, end)


def decode(data: bytes, kinds: str = ARRAY_KINDS, max_header: int | None = None, max_nodes: int | None = MAX_NODES):
    """The value in `data`; raises ProtocolError, and nothing else, on anything malformed or too
    large. `max_header`: the most bytes of JSON accepted (the grader gives MAX_HEADER for a
    worker's frames; None for its own requests); `max_nodes`: the most values in the tree,
    bounded on the raw bytes before they are parsed (so the parser never builds more)."""
    try:
        return _decode(data, kinds, max_header, max_nodes)
    except ProtocolError:
        raise
    except Exception as exc:  # RecursionError, UnicodeError, MemoryError…: still a malformed message
        raise ProtocolError("a malformed message (%s)" % type(exc).__name__) from None


def _decode(data, kinds, max_header, max_nodes):
    if type(data) is memoryview:
        data = bytes(data)
    if type(data) not in (bytes, bytearray):
        raise ProtocolError("a message that is not bytes")
    if len(data) > MAX_MESSAGE:
        raise ProtocolError("a message of %d bytes (limit %d)" % (len(data), MAX_MESSAGE))
    if len(data) < 4:
        raise ProtocolError("a truncated message")
    (n,) = struct.unpack(">I", data[:4])
    if max_header is not None and n > max_header:
        raise ProtocolError("a message whose header has %d bytes (limit %d)" % (n, max_header))
    if 4 + n > len(data):
        raise ProtocolError("a truncated message")
    if max_nodes is not None and _most_values(data, 4, 4 + n) > max_nodes:
        raise ProtocolError("a message holding more than %d values" % max_nodes)
    raw = bytes(data[4:4 + n])
    collecting = gc.isenabled()
    gc.disable()  # the parser's containers hold no cycle: collecting while it builds them is wasted time
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):
        raise ProtocolError("a message whose header is not valid JSON") from None
    finally:
        if collecting:
            gc.enable()
    del raw
    if type(header) is not dict or set(header) != {"tree", "arrays"} or type(header["arrays"]) is not list:
        raise ProtocolError("a message whose header is malformed")
    specs = [_array_spec(spec, kinds) for spec in header["arrays"]]
    if 4 + n + sum(size for _, _, size in specs) != len(data):
        raise ProtocolError("a message whose sizes do not add up")
    arrays, offset = [], 4 + n
    for dtype, shape, size in specs:  # a copy: writable, and independent of the message's bytes
        if size == 0:
            array = np.zeros(shape, dtype)
        else:
            if dtype.kind == "U":
                _check_text(data, dtype, offset, size)
            array = np.frombuffer(data, dtype, size // dtype.itemsize, offset).reshape(shape).copy()
        arrays.append(array)
        offset += size
    return _decode_tree(header["tree"], arrays, 0)


# --- framing on a pipe ------------------------------------------------------------------------

def write_frame(fd, payload: bytes):
    data = struct.pack(">I", len(payload)) + payload
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# --- control messages between the grader and the worker template (Linux, macOS) ---------------

def send_control(sock, data: bytes, fds=()):
    """One message, with descriptors: as is on SOCK_SEQPACKET (Linux), length-prefixed on
    SOCK_STREAM (macOS has no SEQPACKET on UNIX sockets). Descriptors ride the first bytes."""
    if len(data) > MAX_CONTROL:
        raise ProtocolError("a control message of %d bytes" % len(data))
    if sock.type == socket.SOCK_STREAM:
        data = struct.pack(">I", len(data)) + data
    sent = socket.send_fds(sock, [data], list(fds)) if fds else sock.send(data)
    if sent < len(data):
        sock.sendall(data[sent:])


def receive_control(sock, max_fds=0):
    """(message, descriptors); (b"", []) when the other end is gone."""
    if sock.type != socket.SOCK_STREAM:
        if not max_fds:
            return sock.recv(MAX_CONTROL), []
        data, fds, _, _ = socket.recv_fds(sock, MAX_CONTROL, max_fds)
        return data, fds
    if max_fds:
        head, fds, _, _ = socket.recv_fds(sock, 4, max_fds)
    else:
        head, fds = sock.recv(4), []
    if not head:
        return b"", fds
    head = head + _exactly(sock, 4 - len(head))
    (size,) = struct.unpack(">I", head)
    if size > MAX_CONTROL:
        raise ProtocolError("a control message of %d bytes" % size)
    return _exactly(sock, size), fds


def _exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the other end closed in the middle of a message")
        data += chunk
    return data
