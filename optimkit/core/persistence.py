"""The dump file format: plain data that loading cannot turn into code.

A dump is one file: a line ``OPTIMKIT-DUMP``, a JSON header line (format version, class, name,
payload size, SHA-256 of the payload) and the payload, an uncompressed zip holding ``state.json``
(the object graph encoded by :mod:`.plaindata`) and one ``.npy`` member per larger numpy array
(read with ``allow_pickle=False``, after checking that the header's dtype is numeric and its shape
matches the member's real size). It is written atomically: a uniquely named temporary file in the
same folder, fsync, rename over the target, fsync of the folder; stale temporary files of dead
writers are removed at the next dump of the same target.

The checksum detects truncated or corrupted files; it is no protection against a crafted file
(anyone can recompute it). Safety comes from the format itself: loading builds plain data,
numpy arrays and generators, and instances of optimkit's allowed classes only.

Format 2 dumps (pickle, optimkit <= 0.1) are refused by :func:`read_dump`; the explicitly unsafe
:func:`read_pickle_unsafe` (``optimkit.load_unsafe_pickle``) reads them, for files you wrote yourself.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import secrets
import zipfile
from typing import Any

import numpy as np

from .. import errors
from . import plaindata

__all__ = ["FORMAT_VERSION", "write_dump", "read_dump", "read_pickle_unsafe", "remove_stale_temp_files"]

MAGIC = b"OPTIMKIT-DUMP\n"
#: Version 3: plain data (JSON + ``.npy`` members in a zip), no pickle. Version 2 was the pickled
#: optimizer (read only by :func:`read_pickle_unsafe`); version 1 the earlier package layout.
FORMAT_VERSION = 3
_PICKLE_VERSION = 2
_STATE_MEMBER = "state.json"
_TMP_MARK = ".tmp-"


def _tmp_prefix(path: str) -> str:
    return f".{os.path.basename(path)}{_TMP_MARK}"


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # pragma: no cover - no cheap liveness check: keep the file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temp_files(filepath: str | os.PathLike[str]) -> list[str]:
    """Remove the temporary files of interrupted dumps to ``filepath`` whose writer process is dead
    (``.<name>.tmp-<pid>-<random>``); returns the removed paths."""
    path = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(path))
    prefix = _tmp_prefix(path)
    removed: list[str] = []
    try:
        entries = os.listdir(directory)
    except OSError:
        return removed
    for entry in entries:
        if not entry.startswith(prefix):
            continue
        pid_text = entry[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _pid_alive(int(pid_text)):
            continue
        stale = os.path.join(directory, entry)
        try:
            os.remove(stale)
        except OSError:  # removed by someone else meanwhile, or not ours to remove
            continue
        removed.append(stale)
    return removed


def _payload(obj: Any, path: str) -> bytes:
    try:
        tree, arrays = plaindata.encode(obj, "optimizer")
    except plaindata.PlainDataError as exc:
        raise errors.DumpError(f"cannot dump to {path!r}: {exc} (nothing was written)") from exc
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(_STATE_MEMBER, json.dumps({"root": tree}, separators=(",", ":"), allow_nan=False))
        for name, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, arr, allow_pickle=False)
            zf.writestr(name, member.getvalue())
    return buf.getvalue()


def write_dump(obj: Any, filepath: str | os.PathLike[str]) -> None:
    """Write ``obj`` to ``filepath`` as plain data, atomically: a crash never leaves a half-written
    dump, and a state that cannot be stored raises :class:`~optimkit.errors.DumpError` (naming
    ``filepath`` and the offending object's path in the state) before anything is written."""
    path = os.fspath(filepath)
    payload = _payload(obj, path)
    header = {
        "format": FORMAT_VERSION,
        "class": f"{type(obj).__module__}:{type(obj).__qualname__}",
        "name": str(getattr(obj, "name", type(obj).__name__)),
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    directory = os.path.dirname(os.path.abspath(path))
    remove_stale_temp_files(path)
    tmp = os.path.join(directory, f"{_tmp_prefix(path)}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC)
            fh.write(json.dumps(header).encode() + b"\n")
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass  # never created, or already renamed
        raise
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_checked(path: str) -> tuple[dict[str, Any], bytes]:
    """The header and the payload of an optimkit dump of any format, size and checksum checked."""
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
    if type(version) is not int:
        raise errors.LoadError(f"{path!r} has a corrupted optimkit header (format {version!r})")
    payload = buf.read()
    if len(payload) != size:
        raise errors.LoadError(
            f"{path!r} is truncated: expected {size} bytes of optimizer state, found {len(payload)}"
        )
    if hashlib.sha256(payload).hexdigest() != digest:
        raise errors.LoadError(f"{path!r} is corrupted: checksum mismatch")
    return header, payload


def _wrong_version(path: str, version: int) -> errors.LoadError:
    if version == _PICKLE_VERSION:
        hint = (
            "format 2 dumps are pickles, which can run code when loaded: if you wrote this file yourself, "
            "read it with optimkit.load_unsafe_pickle(path) and dump it again"
        )
    elif version < _PICKLE_VERSION:
        hint = "format 1 was written by optimkit 0.1's earlier package layout: resume it with that version"
    else:
        hint = "it was written by a newer optimkit: upgrade optimkit to load it"
    return errors.LoadError(
        f"{path!r} is an optimkit dump of format {version}; this optimkit reads format {FORMAT_VERSION} only ({hint})"
    )


def read_dump(filepath: str | os.PathLike[str]) -> Any:
    """The object of a dump written by :func:`write_dump`; ``LoadError`` for unreadable, foreign,
    truncated, corrupted, other-version or crafted files. Runs no code named by the file."""
    path = os.fspath(filepath)
    header, payload = _read_checked(path)
    if header["format"] != FORMAT_VERSION:
        raise _wrong_version(path, header["format"])
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        members = _check_members(archive, len(payload))
        document = json.loads(archive.read(_STATE_MEMBER))
    except errors.LoadError as exc:
        raise errors.LoadError(f"{path!r}: {exc}") from exc
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError, RecursionError) as exc:
        raise errors.LoadError(f"{path!r} holds a damaged optimizer state ({type(exc).__name__}: {exc})") from exc
    if type(document) is not dict or "root" not in document:
        raise errors.LoadError(f"{path!r} holds a damaged optimizer state (no root)")

    def array(name: str) -> np.ndarray[Any, Any]:
        info = members.get(name)
        if info is None:
            raise errors.LoadError(f"missing array member {name!r}")
        return _read_member(archive, info)

    try:
        return plaindata.decode(document["root"], array)
    except errors.LoadError as exc:
        raise errors.LoadError(f"{path!r} was refused: {exc}") from exc
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as exc:
        raise errors.LoadError(f"{path!r} holds a damaged optimizer state ({type(exc).__name__}: {exc})") from exc


def _check_members(archive: zipfile.ZipFile, payload_size: int) -> dict[str, zipfile.ZipInfo]:
    members: dict[str, zipfile.ZipInfo] = {}
    seen_state = False
    for info in archive.infolist():
        name = info.filename
        if name in members or (name == _STATE_MEMBER and seen_state):
            raise errors.LoadError(f"member {name!r} appears twice")
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise errors.LoadError(f"member {name!r} is compressed or encrypted: refused")
        if info.file_size != info.compress_size or info.file_size > payload_size:
            raise errors.LoadError(f"member {name!r} claims {info.file_size} bytes: refused")
        if name == _STATE_MEMBER:
            seen_state = True
        elif plaindata.is_member_name(name):
            members[name] = info
        else:
            raise errors.LoadError(f"unexpected member {name!r}")
    if not seen_state:
        raise errors.LoadError(f"no {_STATE_MEMBER} member")
    return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray[Any, Any]:
    """One ``.npy`` member: header checked (numeric dtype, shape matching the member's real size)
    before the data is allocated; never unpickles."""
    fmt = np.lib.format
    with archive.open(info) as fh:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fh)
        else:
            raise errors.LoadError(f"array {info.filename} has .npy version {version}: refused")
        nbytes = plaindata.check_array_header(dtype, shape, info.file_size - fh.tell(), info.filename)
        buf = bytearray(nbytes)
        if fh.readinto(buf) != nbytes:  # type: ignore[attr-defined]
            raise errors.LoadError(f"array {info.filename} is truncated")
    arr = np.frombuffer(buf, dtype=dtype)
    return arr.reshape(shape, order="F" if fortran else "C")


def read_pickle_unsafe(filepath: str | os.PathLike[str]) -> Any:
    """UNSAFE: the object of a format 2 dump (a pickle) — this RUNS CODE from the file.

    The size and checksum are checked first, which guards against truncated or corrupted files
    only, not against a crafted one. Use :func:`optimkit.load_unsafe_pickle`, which also prepares
    a loaded optimizer, on files you wrote yourself only.
    """
    path = os.fspath(filepath)
    header, payload = _read_checked(path)
    if header["format"] != _PICKLE_VERSION:
        raise errors.LoadError(
            f"{path!r} is an optimkit dump of format {header['format']}; load_unsafe_pickle reads the pickled "
            f"format {_PICKLE_VERSION} only (use optimkit.load for format {FORMAT_VERSION})"
        )
    try:
        return pickle.loads(payload)  # noqa: S301 - the documented, explicitly unsafe legacy path
    except Exception as exc:  # noqa: BLE001 - any unpickling failure becomes one clear error
        raise errors.LoadError(f"{path!r} could not be unpickled ({type(exc).__name__}: {exc})") from exc
