"""The wire format between the parent and a NOMAD child: framed messages over a socket.

A message is one type byte, a 4-byte little-endian payload length, then the payload. The
exchange is strictly request/response, so at most one message is in flight per direction.

parent -> child
    ``START`` json ``{"x0", "lb", "ub", "seed", "options"}``; ``LOSSES`` float64 losses of the
    last block (NaN: failed evaluation); ``QUIT``.
child -> parent
    ``HELLO`` json ``{"pid"}``; ``IMPORT_ERROR`` text (PyNomad missing); ``POINTS`` float64
    points (m x n, flat); ``DONE`` json ``{"x", "f", "nb_evals", "stop_reason"}``; ``ERROR`` text
    (a Python-level error inside ``PyNomad.optimize``, such as rejected options).

This module uses the standard library only: the child imports it without importing optimkit.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence

__all__ = ["START", "LOSSES", "QUIT", "HELLO", "IMPORT_ERROR", "POINTS", "DONE", "ERROR",
           "send", "receive", "pack_floats", "unpack_floats"]

START, LOSSES, QUIT = b"S", b"L", b"Q"
HELLO, IMPORT_ERROR, POINTS, DONE, ERROR = b"H", b"I", b"P", b"D", b"E"

_HEADER = struct.Struct("<cI")


def send(sock: socket.socket, kind: bytes, payload: bytes = b"") -> None:
    """Send one message (raises ``OSError`` if the other side is gone)."""
    sock.sendall(_HEADER.pack(kind, len(payload)) + payload)


def receive(sock: socket.socket) -> tuple[bytes, bytes] | None:
    """One message ``(kind, payload)``, or None at end of stream (one ``recv`` in the usual case)."""
    data = b""
    need = _HEADER.size
    while len(data) < need:
        chunk = sock.recv(max(65536, need - len(data)))
        if not chunk:
            return None
        data += chunk
        if len(data) >= _HEADER.size:
            need = _HEADER.size + _HEADER.unpack_from(data)[1]
    return data[:1], data[_HEADER.size:need]


def pack_floats(values: Sequence[float]) -> bytes:
    """Little-endian float64 payload.

    Examples
    --------
    >>> unpack_floats(pack_floats([0.5, -1.0]))
    (0.5, -1.0)
    """
    return struct.pack(f"<{len(values)}d", *values)


def unpack_floats(payload: bytes) -> tuple[float, ...]:
    """The floats of a :func:`pack_floats` payload."""
    return struct.unpack(f"<{len(payload) // 8}d", payload)
