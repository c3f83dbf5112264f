"""Receiving a flight upload as a stream: the multipart body is parsed chunk by chunk as it
arrives and each file part goes straight to disk (hashed on the way), so a 2 GB flight never
sits in memory and never passes through a spooled temporary copy first. Size limits are
enforced while streaming: an oversized upload is cut off, not read to the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from fastapi import Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from python_multipart.multipart import MultipartParser, parse_options_header

from heyan.pipeline.images import IMAGE_SUFFIXES
from heyan.serve.errors import DISK_FULL, ApiError
from heyan.serve.storage import BlobStore, BlobWriter, FileTooLarge, Staged, disk_full, keep_temp

MAX_FIELD_BYTES = 64 * 1024


def stage_upload(store: BlobStore, photo: UploadFile, max_bytes: int) -> Staged:
    """One uploaded photo (a form field), streamed to a staged file under the size limit
    (413), refused when empty (422)."""
    with store.writer(limit=max_bytes) as w:
        try:
            while block := photo.file.read(1 << 20):
                w.write(block)
        except FileTooLarge as exc:
            raise ApiError(413, f"photo larger than {exc.limit} bytes") from None
        if w.size == 0:
            raise ApiError(422, "the photo is empty", code="photo_empty")
        return w.stage()


def disk_full_error(exc: BaseException) -> ApiError:
    return ApiError(507, DISK_FULL)


@dataclass
class ReceivedPhoto:
    name: str
    sha256: str
    size: int
    staged: Staged  # not in the store until the flight's rows are written (serve.routers.flights)


@dataclass
class ReceivedZip:
    name: str
    sha256: str
    size: int
    path: Path  # temporary file; the caller deletes it


@dataclass
class Received:
    fields: dict[str, str] = field(default_factory=dict)
    photos: list[ReceivedPhoto] = field(default_factory=list)
    zips: list[ReceivedZip] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files that are neither photos nor zips
    total_bytes: int = 0

    def cleanup(self) -> None:
        """Drop the temporary files (a published photo's is gone already)."""
        for z in self.zips:
            z.path.unlink(missing_ok=True)
        for ph in self.photos:
            ph.staged.discard()


def clean_name(raw: str) -> str:
    """A client's file name without folders, NULs or control characters (browsers may send
    a full Windows path)."""
    name = PurePosixPath(raw.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f").strip()
    return name[:200] or "photo"


class _Part:
    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self.name = ""
        self.filename: str | None = None
        self.writer: BlobWriter | None = None
        self.value = bytearray()
        self.kind = "field"  # field | photo | zip | skip


async def receive_flight(request: Request, store: BlobStore, max_total: int, max_photo: int, max_files: int) -> Received:
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise ApiError(415, "send the flight as multipart/form-data: photos or one .zip in the field 'files'")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_total:
        raise ApiError(413, f"upload of {int(length)} bytes exceeds the limit of {max_total} bytes")

    got = Received()
    state: dict[str, object] = {"part": None, "hname": b"", "hval": b"", "error": None}
    files_seen = 0

    def fail(exc: ApiError) -> None:
        if state["error"] is None:
            state["error"] = exc

    def on_part_begin() -> None:
        state["part"] = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["hname"] = bytes(state["hname"]) + data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["hval"] = bytes(state["hval"]) + data[start:end]

    def on_header_end() -> None:
        part: _Part = state["part"]  # type: ignore[assignment]
        part.headers[bytes(state["hname"]).lower()] = bytes(state["hval"])
        state["hname"], state["hval"] = b"", b""

    def on_headers_finished() -> None:
        nonlocal files_seen
        part: _Part = state["part"]  # type: ignore[assignment]
        _, disp = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = disp.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disp:
            part.filename = clean_name(disp[b"filename"].decode("utf-8", "replace"))
            suffix = PurePosixPath(part.filename).suffix.lower()
            if part.name != "files":
                part.kind = "skip"
                got.skipped.append(f"{part.filename}: file in field {part.name!r}, expected field 'files'")
            elif suffix == ".zip":
                part.kind = "zip"
                part.writer = store.writer(limit=max_total)
            elif suffix in IMAGE_SUFFIXES:
                files_seen += 1
                if files_seen > max_files:
                    fail(ApiError(413, f"more than {max_files} photos in one upload"))
                part.kind = "photo"
                part.writer = store.writer(limit=max_photo)
            else:
                part.kind = "skip"
                got.skipped.append(f"{part.filename}: not a photo ({', '.join(sorted(IMAGE_SUFFIXES))}) or a .zip")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part: _Part = state["part"]  # type: ignore[assignment]
        if state["error"] is not None:
            return
        chunk = data[start:end]
        if part.writer is not None:
            try:
                part.writer.write(chunk)
            except FileTooLarge as exc:
                fail(ApiError(413, f"{part.filename}: larger than the limit of {exc.limit} bytes"))
            except OSError as exc:
                if not disk_full(exc):
                    raise
                fail(disk_full_error(exc))
        elif part.kind == "field":
            part.value += chunk
            if len(part.value) > MAX_FIELD_BYTES:
                fail(ApiError(413, f"form field {part.name!r} is too long"))

    def on_part_end() -> None:
        part: _Part = state["part"]  # type: ignore[assignment]
        if state["error"] is not None:
            if part.writer is not None:
                part.writer.abort()
            return
        if part.kind == "photo" and part.writer is not None:
            try:
                staged = part.writer.stage()
            except OSError as exc:
                part.writer.abort()
                if not disk_full(exc):
                    raise
                fail(disk_full_error(exc))
                return
            got.photos.append(ReceivedPhoto(part.filename or "photo", staged.sha256, staged.size, staged))
        elif part.kind == "zip" and part.writer is not None:
            sha, size, tmp = keep_temp(part.writer)
            got.zips.append(ReceivedZip(part.filename or "flight.zip", sha, size, tmp))
        elif part.kind == "field":
            got.fields[part.name] = part.value.decode("utf-8", "replace").replace("\x00", "")
        state["part"] = None

    parser = MultipartParser(params[b"boundary"], {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
        "on_header_field": on_header_field, "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
    })
    try:
        async for chunk in request.stream():
            got.total_bytes += len(chunk)
            if got.total_bytes > max_total:
                fail(ApiError(413, f"upload exceeds the limit of {max_total} bytes"))
            if state["error"] is not None:
                break
            # The callbacks write (and fsync) files: off the event loop, so one big upload
            # does not stall every other request.
            await run_in_threadpool(parser.write, chunk)
        if state["error"] is None:
            await run_in_threadpool(parser.finalize)
            if state["part"] is not None:
                fail(ApiError(400, "the upload ended in the middle of a file (connection cut?)"))
    except ApiError:
        raise
    except OSError as exc:
        fail(disk_full_error(exc) if disk_full(exc) else ApiError(400, f"upload failed: {exc}"))
    except Exception as exc:  # python-multipart raises its own errors on a malformed body
        fail(ApiError(400, f"malformed multipart body: {exc}"))
    except BaseException:  # cancelled: nothing received is kept
        got.cleanup()
        raise
    finally:
        part = state["part"]
        if isinstance(part, _Part) and part.writer is not None and not part.writer.closed:
            part.writer.abort()  # a body that ended mid-file
    if state["error"] is not None:
        got.cleanup()
        raise state["error"]  # type: ignore[misc]
    return got
