"""Content-addressed, write-once storage of originals: ``objects/ab/cd/<sha256>``.

A file is first copied (and hashed in the same pass) into ``tmp/`` on the same filesystem and
made read-only; once validated it is fsynced and only then hard-linked into ``objects/`` (a
link is atomic and fails if the name exists, so an object is written exactly once) and the
directory fsynced. A reader therefore sees either no object or the complete one, never a
partial file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from earwitness.errors import InputError, StoreError

CHUNK = 1 << 20
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH  # 0444
_HEX = frozenset("0123456789abcdef")


def is_sha256(name: str) -> bool:
    return len(name) == 64 and set(name) <= _HEX


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


@dataclass(frozen=True)
class Staged:
    """A private, read-only copy of an input file in ``tmp/``, and its hash (fsynced by
    :meth:`ObjectStore.commit` before it is linked into place)."""

    path: Path
    sha256: str
    size: int


class ObjectStore:
    """The ``objects/`` and ``tmp/`` directories of an evidence store."""

    def __init__(self, root: Path) -> None:
        self.objects = root / "objects"
        self.tmp = root / "tmp"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256[2:4] / sha256

    def stage(self, src: Path, *, max_bytes: int) -> Staged:
        """Copy ``src`` into ``tmp/`` while hashing it. Raises InputError when the input is too
        big or unreadable, StoreError when the store cannot be written (e.g. disk full)."""
        tmp = self.tmp / f"ingest-{os.getpid()}-{secrets.token_hex(8)}"
        h = hashlib.sha256()
        size = 0
        try:
            fin = open(src, "rb")  # noqa: SIM115  (closed below; errors told apart)
        except OSError as exc:
            raise InputError(src, f"cannot read file ({exc.strerror or exc})") from exc
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                while True:
                    try:
                        block = fin.read(CHUNK)
                    except OSError as exc:
                        raise InputError(src, f"cannot read file ({exc.strerror})") from exc
                    if not block:
                        break
                    size += len(block)
                    if size > max_bytes:
                        raise InputError(src, f"file is over the limit of {max_bytes} bytes")
                    h.update(block)
                    view = memoryview(block)
                    while view:
                        view = view[os.write(fd, view) :]
                os.fchmod(fd, READ_ONLY)
            finally:
                os.close(fd)
        except OSError as exc:
            self.discard(tmp)
            raise StoreError(f"{tmp}: cannot write to the store ({exc.strerror or exc})") from exc
        except BaseException:
            self.discard(tmp)
            raise
        finally:
            fin.close()
        return Staged(path=tmp, sha256=h.hexdigest(), size=size)

    def commit(self, staged: Staged) -> bool:
        """Make ``staged`` visible as its object. Returns False if the object already existed
        (the caller decides whether the existing file is good); the temp copy is left for
        :meth:`discard`."""
        final = self.path_for(staged.sha256)
        fd = os.open(staged.path, os.O_RDONLY)  # durable before it becomes visible
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self._mkdirs(final.parent)
        try:
            os.link(staged.path, final)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.EXDEV):
                raise
            if final.exists():  # filesystem without hard links: rename if still absent
                return False
            os.replace(staged.path, final)
        fsync_dir(final.parent)
        return True

    def replace(self, staged: Staged) -> None:
        """Overwrite a damaged *orphan* object (one with no catalog row) with a good copy."""
        final = self.path_for(staged.sha256)
        os.replace(staged.path, final)
        fsync_dir(final.parent)

    def discard(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def _mkdirs(self, d: Path) -> None:
        if d.is_dir():
            return
        self._mkdirs(d.parent)
        with contextlib.suppress(FileExistsError):
            d.mkdir()
            fsync_dir(d.parent)

    def iter_objects(self) -> Iterator[Path]:
        """Every file under ``objects/`` (sorted)."""
        for dirpath, dirnames, filenames in os.walk(self.objects):
            dirnames.sort()
            for name in sorted(filenames):
                yield Path(dirpath) / name

    def stale_temps(self) -> list[Path]:
        """Temp copies left by processes that no longer run (killed mid-ingest)."""
        out = []
        for p in self.tmp.iterdir():
            parts = p.name.split("-")
            if len(parts) != 3 or not parts[1].isdigit():
                continue
            if not _alive(int(parts[1])):
                out.append(p)
        return out

    def remove_stale_temps(self) -> int:
        stale = self.stale_temps()
        for p in stale:
            self.discard(p)
        return len(stale)


def remove_dead_temps(directory: Path, pattern: str) -> int:
    """Remove files ``name.<pid>.<random>.tmp`` (see :func:`write_atomic`) of dead processes."""
    n = 0
    for p in directory.glob(pattern):
        parts = p.name.split(".")
        if len(parts) >= 4 and parts[-3].isdigit() and not _alive(int(parts[-3])):
            with contextlib.suppress(OSError):
                p.unlink()
                n += 1
    return n


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
