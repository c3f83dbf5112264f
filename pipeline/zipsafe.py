"""Reading a flight delivered as a zip without trusting it: no member may escape the
destination (``../``, absolute paths, drive letters), links and special files are refused,
and decompression bombs are refused before anything is inflated — from the declared sizes,
then again while inflating, since declared sizes can lie."""

from __future__ import annotations

import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from heyan.pipeline.images import IMAGE_SUFFIXES
from heyan.vision.common import InputError, atomic_write


class UnsafeZipError(InputError):
    def __init__(self, file: str | Path, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = str(file)
        self.reason = reason


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = 20_000
    max_total_bytes: int = 64 * 1024**3  # uncompressed
    max_member_bytes: int = 2 * 1024**3
    max_ratio: float = 200.0  # JPEGs barely compress; 1000:1 is a bomb
    # The whole archive: many small members each under the per-member check add up (1,000
    # members of 1 MB of zeros is a 1 MB zip). Photos barely compress, so the total may be
    # at most this many times the archive's size (plus a small allowance for tiny zips).
    max_total_ratio: float = 20.0
    total_ratio_allowance: int = 64 * 1024**2


def _check_name(zip_path: Path, name: str) -> PurePosixPath:
    if "\x00" in name:
        raise UnsafeZipError(zip_path, f"member {name!r} has a NUL byte in its name")
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or (p.parts and ":" in p.parts[0]):
        raise UnsafeZipError(zip_path, f"member {name!r} has an absolute path")
    if ".." in p.parts:
        raise UnsafeZipError(zip_path, f"member {name!r} points outside the archive ('..')")
    return p


def check_zip(zip_path: Path, limits: ZipLimits = ZipLimits()) -> list[zipfile.ZipInfo]:
    """Validate the whole archive up front; return the image members in name order."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise UnsafeZipError(zip_path, f"not a valid zip file ({exc})") from None
    with zf:
        infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise UnsafeZipError(zip_path, f"{len(infos)} members exceed the limit of {limits.max_members}")
    total = 0
    images = []
    archive_size = Path(zip_path).stat().st_size
    ratio_cap = archive_size * limits.max_total_ratio + limits.total_ratio_allowance
    for info in infos:
        _check_name(zip_path, info.filename)
        # Unix mode in the high 16 bits; many tools store permission bits without a file
        # type, which is a plain file. Refuse only a declared link or special file.
        ftype = stat.S_IFMT(info.external_attr >> 16)
        if ftype and ftype not in (stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeZipError(zip_path, f"member {info.filename!r} is a link or special file")
        if info.is_dir():
            continue
        if info.file_size > limits.max_member_bytes:
            raise UnsafeZipError(zip_path, f"member {info.filename!r} inflates to {info.file_size} bytes (limit {limits.max_member_bytes})")
        if info.compress_size and info.file_size / info.compress_size > limits.max_ratio and info.file_size > 1_000_000:
            raise UnsafeZipError(zip_path, f"member {info.filename!r} compresses {info.file_size / info.compress_size:.0f}:1 — a decompression bomb")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise UnsafeZipError(zip_path, f"archive inflates to more than {limits.max_total_bytes} bytes")
        if total > ratio_cap:
            raise UnsafeZipError(zip_path, f"archive of {archive_size} bytes inflates to more than {int(ratio_cap)} bytes "
                                           f"({limits.max_total_ratio:.0f}x its size): a decompression bomb")
        if PurePosixPath(info.filename).suffix.lower() in IMAGE_SUFFIXES and not PurePosixPath(info.filename).name.startswith("._"):
            images.append(info)
    return sorted(images, key=lambda i: i.filename)


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits = ZipLimits()) -> bytes:
    """Inflate one member, stopping as soon as it exceeds its declared size (a lying header)."""
    cap = min(info.file_size, limits.max_member_bytes)
    chunks, got = [], 0
    try:
        with zf.open(info) as fh:
            while True:
                block = fh.read(1 << 20)
                if not block:
                    break
                got += len(block)
                if got > cap:
                    raise UnsafeZipError(zf.filename or "<zip>", f"member {info.filename!r} inflates beyond its declared size")
                chunks.append(block)
    except UnsafeZipError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        # A damaged member (bad CRC, truncated or corrupt deflate data), an encrypted one, or
        # an unsupported compression method: the archive is refused, naming the member.
        raise UnsafeZipError(zf.filename or "<zip>", f"member {info.filename!r} is damaged or unreadable ({exc})") from None
    return b"".join(chunks)


def iter_zip_images(zip_path: Path, limits: ZipLimits = ZipLimits()) -> Iterator[tuple[str, bytes]]:
    """(member name, bytes) for each image, one at a time: memory stays bounded by one photo."""
    members = check_zip(zip_path, limits)
    with zipfile.ZipFile(zip_path) as zf:
        for info in members:
            yield info.filename, read_member(zf, info, limits)


def extract_images(zip_path: Path, dest: Path, limits: ZipLimits = ZipLimits()) -> list[Path]:
    """Extract the image members (checked first) under ``dest``, keeping their folders.
    Files are written under a temporary name and renamed, so a crash leaves no half photo."""
    members = check_zip(zip_path, limits)
    dest = Path(dest)
    out: list[Path] = []
    with zipfile.ZipFile(zip_path) as zf:
        for info in members:
            rel = _check_name(zip_path, info.filename)
            target = dest.joinpath(*rel.parts)
            if dest.resolve() not in target.resolve().parents:
                raise UnsafeZipError(zip_path, f"member {info.filename!r} points outside the destination")
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, read_member(zf, info, limits), durable=False)  # the zip is kept: extract again
            out.append(target)
    return out
