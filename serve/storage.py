"""Content-addressed file store: a file's path is its sha256 (``ab/cd/abcd…``), so the same
photo uploaded twice is stored once and a retried upload is harmless. Every write goes to a
temporary file in the same filesystem and is renamed into place only when complete, so a
crash never leaves a half file under a real name.

This is the one storage interface of the server: an S3/MinIO implementation would provide
the same methods (see DESIGN.md, "Growing past one machine")."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from heyan.vision.common import InputError

_SHA = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20


@dataclass
class Staged:
    """A file written and hashed but not yet in the store (a temporary file under the
    store's tmp folder): ``BlobStore.publish`` moves it in, ``discard`` drops it. Uploads
    stage everything first and publish only with the database rows that reference it, so a
    refused or interrupted upload leaves no file behind."""

    sha256: str
    size: int
    path: Path

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


class BlobWriter:
    """Write a file in chunks while hashing it; ``commit`` moves it to its content address,
    ``stage`` keeps it aside for ``BlobStore.publish``."""

    def __init__(self, store: BlobStore, limit: int | None = None) -> None:
        self.store = store
        self.limit = limit
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="up-", suffix=".part")
        self._fh: BinaryIO = os.fdopen(fd, "wb")
        self._tmp = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise FileTooLarge(self.size, self.limit)
        self._hash.update(data)
        self._fh.write(data)

    @property
    def sha256(self) -> str:
        """The hash of what was written so far (to check a claimed hash before committing)."""
        return self._hash.hexdigest()

    def stage(self) -> Staged:
        """Finish writing (flushed to disk) without storing: the caller publishes or discards it."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self.closed = True
        return Staged(self._hash.hexdigest(), self.size, self._tmp)

    def commit(self) -> tuple[str, int]:
        staged = self.stage()
        self.store.publish(staged)
        return staged.sha256, staged.size

    def abort(self) -> None:
        if not self.closed:
            self._fh.close()
            self.closed = True
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None or not self.closed:
            self.abort()


class FileTooLarge(InputError):
    http_status = 413

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"file is larger than the limit of {limit} bytes")
        self.size, self.limit = size, limit


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blob_dir = self.root / "blobs"
        self.tmp_dir = self.root / "tmp"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def valid(sha: str) -> bool:
        return bool(_SHA.match(sha))

    def path(self, sha: str) -> Path:
        if not self.valid(sha):
            raise ValueError(f"not a sha256 hex digest: {sha!r}")
        return self.blob_dir / sha[:2] / sha[2:4] / sha

    def exists(self, sha: str) -> bool:
        return self.valid(sha) and self.path(sha).is_file()

    def writer(self, limit: int | None = None) -> BlobWriter:
        return BlobWriter(self, limit)

    def stage_bytes(self, data: bytes) -> Staged:
        with self.writer() as w:
            w.write(data)
            return w.stage()

    def publish(self, staged: Staged) -> bool:
        """Move a staged file to its content address; True if this created the stored file
        (False: the store had it already, the staged copy is dropped)."""
        target = self.path(staged.sha256)
        if target.exists():  # already stored: the content is the same by definition
            staged.discard()
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, target)
        return True

    def remove(self, sha: str) -> None:
        """Take back a file this process just published (its database rows were not written)."""
        if self.valid(sha):
            self.path(sha).unlink(missing_ok=True)

    def files(self) -> list[str]:
        """Every stored file's sha256 (tests, checks)."""
        return sorted(p.name for p in self.blob_dir.glob("*/*/*") if p.is_file())

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        with self.writer() as w:
            w.write(data)
            return w.commit()

    def put_file(self, path: Path) -> tuple[str, int]:
        with self.writer() as w, open(path, "rb") as fh:
            while block := fh.read(CHUNK):
                w.write(block)
            return w.commit()

    def clean_tmp(self) -> None:
        """Drop temporary files left by a crash (called at start, before any upload)."""
        for p in self.tmp_dir.glob("*.part"):
            p.unlink(missing_ok=True)


def keep_temp(writer: BlobWriter) -> tuple[str, int, Path]:
    """Finish a writer without storing the file: (sha256, size, temporary path). For a zip:
    its hash identifies the upload, but the store keeps only the photos inside it."""
    writer._fh.flush()
    writer._fh.close()
    writer.closed = True
    return writer._hash.hexdigest(), writer.size, writer._tmp
