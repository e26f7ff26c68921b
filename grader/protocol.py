"""Values on the wire, without pickle: a JSON tree whose arrays travel as raw bytes.

Used both ways between the grader and its worker, and for the public-cases file. Standalone
(standard library + NumPy) because the worker runs it from a copy, outside the grader package.

A message is `len(header) (4 bytes) | header JSON | blob | blob …`; the header's tree stands
for the value, with `{"$nd": k}` for the k-th array, `{"$tuple": [...]}` for a tuple and
`{"$dict": {...}}` for a dict; `arrays` gives each blob's dtype (a plain `<f8`-style code) and
shape. Decoding checks everything and trusts nothing: dtypes (bool/int/float and, in inputs,
unicode), shapes, sizes, nesting, before any array is built. (Raw bytes rather than `.npy`:
parsing a `.npy` header evaluates a Python literal, which cost 0.3 ms per array.)
"""
import json
import os
import re
import socket
import struct

import numpy as np

MAX_MESSAGE = 256 * 2**20      # bytes in one message
MAX_ELEMENTS = 16 * 2**20      # elements in one returned array
MAX_DEPTH = 12
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


def _encode_tree(value, blobs, depth=0):
    if depth > MAX_DEPTH:
        raise Unsupported("nested more than %d levels deep" % MAX_DEPTH)
    kind = type(value)  # exact types only: subclasses could run code when converted
    if value is None or kind in (bool, int, str):
        return value
    if kind is np.str_:
        return str(value)
    if kind is float:
        return {"$float": repr(value)} if value != value or value in (float("inf"), float("-inf")) else value
    if kind is np.ndarray or isinstance(value, np.generic) and kind.__module__ == "numpy":
        array = np.asarray(value) if kind is not np.ndarray else value
        if array.size > MAX_ELEMENTS:  # e.g. a stride trick: never copy it
            raise Unsupported("an array of shape %s (more than %d elements)" % (array.shape, MAX_ELEMENTS))
        if array.dtype.kind not in INPUT_KINDS or array.dtype.hasobject:
            raise Unsupported("an array of dtype %s (only bool, int and float arrays are accepted)" % array.dtype)
        blobs.append(array)
        return {"$nd": len(blobs) - 1}
    if kind is list:
        return [_encode_tree(v, blobs, depth + 1) for v in value]
    if kind is tuple:
        return {"$tuple": [_encode_tree(v, blobs, depth + 1) for v in value]}
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise Unsupported("a dict with non-string keys")
        return {"$dict": {k: _encode_tree(v, blobs, depth + 1) for k, v in value.items()}}
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


def encode(value) -> bytes:
    """Bytes for `value` (raises Unsupported for anything but plain data)."""
    tree, arrays = split(value)
    arrays = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in arrays]
    header = json.dumps({"tree": tree, "arrays": [[a.dtype.str, list(a.shape)] for a in arrays]}).encode()
    return struct.pack(">I", len(header)) + header + b"".join(a.tobytes() for a in arrays)


# byte order, kind, item size: nothing else (no structured, object or datetime dtype) is parsed
_DTYPE = re.compile(r"[<>|=]([biuf])(1|2|4|8|16)|[<>|=](U)([0-9]{1,6})")


def _array_spec(spec, kinds):
    """(dtype, shape, byte count) of one array, from the header, before anything is allocated."""
    if type(spec) is not list or len(spec) != 2 or type(spec[0]) is not str or type(spec[1]) is not list \
            or not all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in spec[1]) or len(spec[1]) > 32:
        raise ProtocolError("an array with a malformed description")
    match = _DTYPE.fullmatch(spec[0])
    if match is None or (match.group(1) or match.group(3)) not in kinds:
        raise ProtocolError("an array of dtype %s is not accepted" % spec[0][:20])
    dtype = np.dtype(spec[0])
    count = 1
    for n in spec[1]:
        count *= n
    if count > MAX_ELEMENTS:
        raise ProtocolError("an array of shape %s is too large" % (tuple(spec[1]),))
    return dtype, tuple(spec[1]), count * dtype.itemsize


def _decode_tree(tree, arrays, depth):
    if depth > MAX_DEPTH:
        raise ProtocolError("nested too deeply")
    if tree is None or type(tree) in (bool, int, float, str):
        return tree
    if type(tree) is list:
        return [_decode_tree(v, arrays, depth + 1) for v in tree]
    if type(tree) is dict and len(tree) == 1:
        (tag, inner), = tree.items()
        if tag == "$nd" and type(inner) is int and 0 <= inner < len(arrays):
            return arrays[inner]
        if tag == "$float" and inner in ("nan", "inf", "-inf"):
            return float(inner)
        if tag == "$tuple" and type(inner) is list:
            return tuple(_decode_tree(v, arrays, depth + 1) for v in inner)
        if tag == "$dict" and type(inner) is dict:
            return {str(k): _decode_tree(v, arrays, depth + 1) for k, v in inner.items()}
    raise ProtocolError("an unexpected element in the message")


def decode(data: bytes, kinds: str = ARRAY_KINDS):
    """The value in `data`; raises ProtocolError on anything malformed or too large."""
    if len(data) > MAX_MESSAGE:
        raise ProtocolError("a message of %d bytes (limit %d)" % (len(data), MAX_MESSAGE))
    if len(data) < 4:
        raise ProtocolError("a truncated message")
    (n,) = struct.unpack(">I", data[:4])
    try:
        header = json.loads(data[4:4 + n])
        specs = header["arrays"]
        tree = header["tree"]
    except Exception:
        raise ProtocolError("a message whose header is not valid JSON") from None
    if type(specs) is not list:
        raise ProtocolError("a message whose array list is malformed")
    specs = [_array_spec(spec, kinds) for spec in specs]
    if 4 + n + sum(size for _, _, size in specs) != len(data):
        raise ProtocolError("a message whose sizes do not add up")
    arrays, offset = [], 4 + n
    for dtype, shape, size in specs:  # a copy: writable, and independent of the message's bytes
        arrays.append(np.frombuffer(data, dtype, size // dtype.itemsize if dtype.itemsize else 0,
                                    offset).reshape(shape).copy())
        offset += size
    return _decode_tree(tree, arrays, 0)


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
