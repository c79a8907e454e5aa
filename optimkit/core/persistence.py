"""The dump file format: an optimkit header (format version, class, size, checksum) and the
pickled object, written atomically; reading checks each part and fails with one clear
:class:`~optimkit.errors.LoadError`.

Pickle runs code from the file while it loads: load only dumps you wrote yourself.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
from typing import Any

from .. import errors

__all__ = ["FORMAT_VERSION", "write_dump", "read_dump"]

MAGIC = b"OPTIMKIT-DUMP\n"
#: Version 2: the package layout of optimkit.core / optimkit.algorithms (version 1 dumps name
#: classes and internal states of the earlier layout and are refused with a clear message).
FORMAT_VERSION = 2


def write_dump(obj: Any, filepath: str | os.PathLike[str]) -> None:
    """Pickle ``obj`` to ``filepath`` atomically (temporary file, fsync, rename, fsync of the folder):
    a crash never leaves a half-written dump."""
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    header = {
        "format": FORMAT_VERSION,
        "class": f"{type(obj).__module__}.{type(obj).__qualname__}",
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    path = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(MAGIC)
        fh.write(json.dumps(header).encode() + b"\n")
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_dump(filepath: str | os.PathLike[str]) -> Any:
    """The object of a dump written by :func:`write_dump`; ``LoadError`` for unreadable, foreign,
    truncated, corrupted or other-version files."""
    path = os.fspath(filepath)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise errors.LoadError(f"cannot read optimizer dump {path!r}: {exc}") from exc
    if not raw.startswith(MAGIC):
        raise errors.LoadError(f"{path!r} is not an optimkit optimizer dump (no optimkit header)")
    buf = io.BytesIO(raw[len(MAGIC) :])
    try:
        header = json.loads(buf.readline().decode())
        version, size, digest = header["format"], int(header["size"]), str(header["sha256"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError) as exc:
        raise errors.LoadError(f"{path!r} has a corrupted optimkit header") from exc
    if version != FORMAT_VERSION:
        raise errors.LoadError(
            f"{path!r} is an optimkit dump of format {version!r}; this optimkit reads format {FORMAT_VERSION} "
            "only (format 1 was written by optimkit 0.1's earlier package layout: resume it with that version)"
        )
    payload = buf.read()
    if len(payload) != size:
        raise errors.LoadError(
            f"{path!r} is truncated: expected {size} bytes of optimizer state, found {len(payload)}"
        )
    if hashlib.sha256(payload).hexdigest() != digest:
        raise errors.LoadError(f"{path!r} is corrupted: checksum mismatch")
    try:
        return pickle.loads(payload)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure becomes one clear error
        raise errors.LoadError(f"{path!r} could not be unpickled ({type(exc).__name__}: {exc})") from exc
