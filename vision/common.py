"""What every layer shares and no layer owns: the base class of bad-input errors, atomic
file writes, and Beijing time. It lives in ``vision``, the lowest layer, so that every
package may import it without an arrow pointing up."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta, timezone
from pathlib import Path

# Beijing time (UTC+08:00, no daylight saving): how offices write times, and how zone-less
# times (EXIF, filter dates) are read.
BEIJING = timezone(timedelta(hours=8))


class InputError(ValueError):
    """Input the program cannot use (a file, a setting, a request): the message names what
    and why. The CLI prints it and exits with ``exit_code``; the API answers ``http_status``."""

    exit_code = 2
    http_status = 422


class ProblemsError(InputError):
    """A file with problems, all of them listed (not only the first found)."""

    what = "input"

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = list(errors)
        shown = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"{source}: {len(self.errors)} problem(s) in the {self.what}:\n{shown}")


def unreadable_reason(exc: OSError, noun: str) -> str:
    """Why a file given as input could not be read, in the words every reader uses
    (``noun`` is what it should have been: "a photo", "an SRT file")."""
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return f"is a directory, not {noun}"
    return f"cannot read file ({exc.strerror or type(exc).__name__})"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_file(path: str | Path, durable: bool = True, keep_suffix: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces ``path`` when the block ends without
    an error, so a reader or a crash sees the old file or the new one, never a part.
    ``durable``: fsync the file and the folder, so the new file survives a power cut too
    (off only for output that can be made again). The temporary name is hidden and ends in
    ``.tmp`` (what a recovery after a crash sweeps up) unless ``keep_suffix``: for writers
    that choose the format by the suffix (OpenCV)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique name the writer creates itself (mkstemp's would be private, 0600).
    unique = f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    tmp = path.with_name(unique + path.suffix if keep_suffix else unique)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(path.parent)


def atomic_write(path: str | Path, data: bytes | str, durable: bool = True) -> Path:
    """Write ``data`` (str as UTF-8) to ``path`` through ``atomic_file``."""
    with atomic_file(path, durable) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)
