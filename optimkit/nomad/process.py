"""One NOMAD child process: how it is started, watched, described when it dies, and killed.

The child is a plain ``python`` started with :mod:`subprocess` (never a fork of the user's
process, never a re-import of the user's ``__main__``), connected by a socket pair. A small
bootstrap makes ``optimkit.nomad`` importable in the child without running
``optimkit/__init__.py`` (numpy, scipy and the framework would triple its start-up time), then
runs :func:`optimkit.nomad.worker.main`. NOMAD's own prints, and a dying child's last words, go
to a temporary file, never into the protocol.

Children are daemons in spirit: they exit when their socket closes (parent gone), and
:meth:`NomadWorker.close` (also run by a ``weakref.finalize`` at garbage collection and at
interpreter exit) kills them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import weakref
from typing import Any

from .protocol import HELLO, receive

__all__ = ["NOMAD_INSTALL_HINT", "CHILD_MARKER", "check_pynomad", "NomadWorker"]

NOMAD_INSTALL_HINT = "EA-NOMAD needs PyNomad (NOMAD 4.x): pip install optimkit[nomad]"

#: Appears on every NOMAD child's command line (``ps``, ``/proc/PID/cmdline``), to find them.
CHILD_MARKER = "__nomad_child__"

_OPTIMKIT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# argv: marker, optimkit's directory, socket fd. Empty packages stand in for ``optimkit`` and
# ``optimkit.nomad``, so that importing the worker imports nothing else of optimkit.
_BOOTSTRAP = """\
import sys, types
for name, path in (("optimkit", sys.argv[2]), ("optimkit.nomad", sys.argv[2] + "/nomad")):
    package = types.ModuleType(name)
    package.__path__ = [path]
    sys.modules[name] = package
from optimkit.nomad.worker import main
main(sys.argv)
"""


def check_pynomad() -> str:
    """Return the installed PyNomadBBO version; raise an ImportError naming the extra if missing."""
    import importlib.metadata
    import importlib.util

    if importlib.util.find_spec("PyNomad") is None:
        raise ImportError(NOMAD_INSTALL_HINT, name="PyNomad")
    try:
        return importlib.metadata.version("PyNomadBBO")
    except importlib.metadata.PackageNotFoundError:  # built from source: trust the module
        return "unknown"


def _finalize_worker(proc: subprocess.Popen[bytes], sock: socket.socket, log: Any) -> None:
    for action in (sock.close, proc.kill, log.close):
        try:
            action()
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - kill cannot be ignored
        pass


class NomadWorker:
    """One child process that runs NOMAD searches one after the other.

    Raises ``ImportError`` (naming ``pip install optimkit[nomad]``) if the child cannot import
    PyNomad. ``sock`` is the parent's end of the socket; ``proc`` the ``subprocess.Popen``.
    """

    def __init__(self) -> None:
        parent_sock, child_sock = socket.socketpair()
        self._log = tempfile.TemporaryFile(mode="a+b")
        env = dict(os.environ)
        env.setdefault("OMP_NUM_THREADS", "1")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BOOTSTRAP, CHILD_MARKER, _OPTIMKIT_DIR, str(child_sock.fileno())],
                pass_fds=(child_sock.fileno(),), stdin=subprocess.DEVNULL, stdout=self._log,
                stderr=subprocess.STDOUT, env=env, close_fds=True)
        finally:
            child_sock.close()
        self.sock = parent_sock
        self._finalizer = weakref.finalize(self, _finalize_worker, self.proc, self.sock, self._log)
        message = receive(self.sock)
        if message is None or message[0] != HELLO:
            reason = message[1].decode() if message else self.describe_death()
            self.close()
            raise ImportError(f"{NOMAD_INSTALL_HINT} (worker: {reason})", name="PyNomad")

    @property
    def alive(self) -> bool:
        """Whether the child runs and has not been closed."""
        return self._finalizer.alive and self.proc.poll() is None

    def fileno(self) -> int:
        """The parent's socket (for ``select``)."""
        return self.sock.fileno()

    def describe_death(self) -> str:
        """Exit status (signal name) and the last lines the child printed."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            code = None
        if code is not None and code < 0:
            status = f"killed by {signal.Signals(-code).name}"
        else:
            status = f"exited with status {code}"
        try:
            self._log.seek(0, os.SEEK_END)
            self._log.seek(max(0, self._log.tell() - 600))
            tail = self._log.read().decode(errors="replace").strip().splitlines()[-3:]
        except (OSError, ValueError):
            tail = []
        return f"NOMAD process {self.proc.pid} {status}" + (f"; last output: {' | '.join(tail)}" if tail else "")

    def reset_log(self) -> None:
        """Forget what the child printed so far (each search starts a fresh log; the file is in append mode)."""
        try:
            self._log.truncate(0)
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        """Kill the child and release its socket and log (idempotent)."""
        self._finalizer()
