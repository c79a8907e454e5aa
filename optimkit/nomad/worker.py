"""The NOMAD child's main loop: run searches for the parent, one point (or block) at a time.

This runs inside the child process that :class:`optimkit.nomad.NomadWorker` starts. NOMAD's
blackbox sends each point to the parent over the socket and waits for its loss, so the parent
drives NOMAD's loop from outside. The child imports only this module, :mod:`.protocol` and
PyNomad (the parent's bootstrap makes ``optimkit.nomad`` importable without running
``optimkit/__init__.py``), so it starts in a few tens of milliseconds. It can also be started by
hand, more slowly, as ``python -m optimkit.nomad.worker FD`` (``FD``: a connected socket).

It leaves when told to quit, and at once (``os._exit``, without unwinding through NOMAD) when the
parent's side of the socket closes: a child never outlives its parent's interest.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sys
from typing import Any

from .protocol import (
    DONE,
    ERROR,
    HELLO,
    IMPORT_ERROR,
    LOSSES,
    POINTS,
    QUIT,
    pack_floats,
    receive,
    send,
    unpack_floats,
)

__all__ = ["serve", "main"]


def serve(fd: int) -> None:  # pragma: no cover - runs in the child process
    """Serve NOMAD searches over the socket ``fd`` until told to quit or the parent goes away."""
    sock = socket.socket(fileno=fd)
    try:
        import PyNomad
    except ImportError as exc:
        send(sock, IMPORT_ERROR, str(exc).encode())
        return
    send(sock, HELLO, json.dumps({"pid": os.getpid()}).encode())

    def exchange(points: list[list[float]]) -> tuple[float, ...]:
        try:
            send(sock, POINTS, pack_floats([c for p in points for c in p]))
            message = receive(sock)
        except OSError:
            message = None
        if message is None or message[0] != LOSSES:
            os._exit(0)  # parent gone or search aborted: leave without unwinding through NOMAD
        return unpack_floats(message[1])

    def set_output(x: Any, loss: float) -> bool:
        if not math.isfinite(loss):
            return False  # failed evaluation for NOMAD
        x.setBBO(repr(loss).encode("utf-8"))
        return True

    def blackbox(x: Any) -> int:
        (loss,) = exchange([[x.get_coord(i) for i in range(x.size())]])
        return int(set_output(x, loss))

    def blackbox_block(block: Any) -> list[bool]:
        points = [block.get_x(k) for k in range(block.size())]
        losses = exchange([[p.get_coord(i) for i in range(p.size())] for p in points])
        return [set_output(p, loss) for p, loss in zip(points, losses)]

    while True:
        message = receive(sock)
        if message is None or message[0] == QUIT:
            return
        start = json.loads(message[1])
        block = any(o.split()[0].upper() == "BB_MAX_BLOCK_SIZE" and int(o.split()[1]) > 1
                    for o in start["options"])
        # PyNomad keeps one static RNG: it reseeds from the SEED option only when the value differs
        # from the stored seed, so store another value first (measured: same seed, same points).
        PyNomad.setSeed(start["seed"] + 1)
        try:
            res = PyNomad.optimize(blackbox_block if block else blackbox, start["x0"], start["lb"],
                                   start["ub"], start["options"])
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
            send(sock, ERROR, f"{type(exc).__name__}: {exc}".encode())
            continue
        x = res.get("x_single_best", res.get("x_best"))
        f = res.get("f_single_best", res.get("f_best"))
        send(sock, DONE, json.dumps({"x": list(x) if x else None, "f": f, "nb_evals": res.get("nb_evals"),
                                     "stop_reason": str(res.get("stop_reason", ""))}).encode())


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - runs in the child process
    """Entry point of the child: ``argv`` ends with the socket's file descriptor."""
    serve(int((sys.argv if argv is None else argv)[-1]))


if __name__ == "__main__":  # pragma: no cover - python -m optimkit.nomad.worker FD
    main()
