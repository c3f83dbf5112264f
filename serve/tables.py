"""Database tables (SQLAlchemy 2 ORM). The schema itself is created and changed only by the
Alembic migrations in ``serve/migrations``; a test checks they agree with these classes.

Times are stored as naive UTC (``UTCDateTime``) so SQLite and PostgreSQL behave the same,
and come back timezone-aware."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


# --------------------------------------------------------------------------- people and machines


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))  # admin | reviewer | chief | operator | viewer
    full_name: Mapped[str | None] = mapped_column(sa.String(128))
    segments: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # a chief's river segments
    chief_level: Mapped[str | None] = mapped_column(sa.String(16))  # a chief's level: village | township | county
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """Personal bearer token of an API client; only the sha256 of the token is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship(lazy="joined")


class WebSession(Base):
    """Browser session: the cookie carries a random token, the table its sha256."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user: Mapped[User] = relationship(lazy="joined")


class Device(Base):
    """An edge box. Its token (sha256 stored) authenticates the edge API (/api/edge)."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    token_prefix: Mapped[str | None] = mapped_column(sa.String(16))
    token_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # server time of the latest heartbeat
    health: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # the latest heartbeat body, as the box sent it


class EdgeEvent(Base):
    """One event of an edge box: its newest state (highest ``seq``; the box sends each change
    again with a higher one) and what the server made of it (``outcome``, ``ticket_id``).
    ``event_id`` is the box's UUID, unique per device: a retried upload finds its row."""

    __tablename__ = "edge_events"
    __table_args__ = (
        sa.UniqueConstraint("device_id", "event_id"),
        sa.Index("ix_edge_events_device_id_camera_id", "device_id", "camera_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id"))  # from the token, not from the body
    event_id: Mapped[str] = mapped_column(sa.String(64))
    seq: Mapped[int] = mapped_column(sa.Integer)
    reported_device: Mapped[str | None] = mapped_column(sa.String(256))  # the box's own name for itself (body device_id)
    camera_id: Mapped[str] = mapped_column(sa.String(256))
    kind: Mapped[str] = mapped_column(sa.String(32), index=True)  # object | dry_weather_discharge | abnormal_colour | stream_frozen
    phase: Mapped[str] = mapped_column(sa.String(8))  # start | update | end
    class_name: Mapped[str | None] = mapped_column(sa.String(64))
    score: Mapped[float | None] = mapped_column(sa.Float)
    box: Mapped[list[float] | None] = mapped_column(sa.JSON)
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    error_m: Mapped[float | None] = mapped_column(sa.Float)
    outfall_id: Mapped[str | None] = mapped_column(sa.String(256))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the box's clock
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snapshot_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    crop_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # first POST (server clock)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # newest state stored
    posts: Mapped[int] = mapped_column(sa.Integer, default=1)  # POSTs received, repeats included (at-least-once on the wire)
    # What became of it: ticket | seen_again | no_ticket | no_position | no_network | health
    outcome: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    rule: Mapped[str | None] = mapped_column(sa.String(64))
    category: Mapped[str | None] = mapped_column(sa.String(64))
    segment_id: Mapped[str | None] = mapped_column(sa.String(128))
    network_version: Mapped[int | None] = mapped_column(sa.ForeignKey("river_networks.version"))
    ticket_id: Mapped[str | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True)


class DeviceMedia(Base):
    """Which device uploaded which snapshot: an event may attach only media its own box sent
    (blobs are shared by content, so the blob row cannot say)."""

    __tablename__ = "device_media"
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.ForeignKey("blobs.sha256"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --------------------------------------------------------------------------- files, rivers, flights


class Blob(Base):
    """A file in the content-addressed store (photos, evidence crops, rectification photos)."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    content_type: Mapped[str] = mapped_column(sa.String(64), default="application/octet-stream")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RiverNetworkVersion(Base):
    __tablename__ = "river_networks"
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(sa.String(256))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    geojson: Mapped[str] = mapped_column(sa.Text)
    n_segments: Mapped[int] = mapped_column(sa.Integer)
    warnings: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=False, index=True)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Flight(Base):
    __tablename__ = "flights"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(256))
    content_key: Mapped[str] = mapped_column(sa.String(64), unique=True)  # sha256 of the zip / of the photo set
    source: Mapped[str] = mapped_column(sa.String(16))  # zip | photos
    n_photos: Mapped[int] = mapped_column(sa.Integer)
    bytes: Mapped[int] = mapped_column(sa.BigInteger)
    uploaded_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    network_version: Mapped[int | None] = mapped_column(sa.ForeignKey("river_networks.version"))
    summary: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # The detector of the latest processing: zoo name and sha256 of its ONNX file.
    model_name: Mapped[str | None] = mapped_column(sa.String(256))
    model_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    photos: Mapped[list[FlightPhoto]] = relationship(back_populates="flight", order_by="FlightPhoto.name",
                                                     cascade="all, delete-orphan")


class FlightPhoto(Base):
    __tablename__ = "flight_photos"
    __table_args__ = (sa.UniqueConstraint("flight_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    flight_id: Mapped[str] = mapped_column(sa.ForeignKey("flights.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(512))
    sha256: Mapped[str] = mapped_column(sa.ForeignKey("blobs.sha256"), index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    rejected: Mapped[str | None] = mapped_column(sa.Text)  # why the pipeline refused it
    flight: Mapped[Flight] = relationship(back_populates="photos")


class Job(Base):
    """One unit of background work, pulled by a worker. ``lease_until`` is the heartbeat:
    a running job whose lease ran out belongs to a dead worker and is requeued."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32), default="ingest")
    # threads: one server thread runs the whole flight under a lease; queue: one task per
    # photo on the task queue, then one reduce task (serve.queue), counted in photos_done.
    mode: Mapped[str] = mapped_column(sa.String(16), default="threads", server_default="threads")
    network_version: Mapped[int | None] = mapped_column(sa.Integer)  # the river network a queue job's tasks use
    flight_id: Mapped[str] = mapped_column(sa.ForeignKey("flights.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(sa.String(16), default="queued", index=True)  # queued|running|done|failed
    photos_done: Mapped[int] = mapped_column(sa.Integer, default=0)
    photos_total: Mapped[int] = mapped_column(sa.Integer, default=0)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(sa.String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PhotoResult(Base):
    """One photo's pipeline result, written by a photo task of the task queue (serve.queue)
    in one transaction with the job's progress count. Its key is the photo's work (flight,
    photo content, model, rules, river network, options, code): a task delivered again
    finds its result here and does nothing; a second writer of the same key loses the
    insert and changes nothing. ``outcome`` is a pickle the workers themselves wrote
    (never uploaded content), read only by the reduce task."""

    __tablename__ = "photo_results"
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    job_id: Mapped[int] = mapped_column(sa.ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    flight_id: Mapped[str] = mapped_column(sa.ForeignKey("flights.id", ondelete="CASCADE"), index=True)
    photo_sha: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16))  # done | rejected (unusable photo) | failed (gave up)
    outcome: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=1)
    worker: Mapped[str] = mapped_column(sa.String(128))
    seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --------------------------------------------------------------------------- tickets


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # List order is (found_at, id): both indexes end in it so a page needs no sort.
        sa.Index("ix_tickets_found_at_id", "found_at", "id"),
        sa.Index("ix_tickets_state_found_at", "state", "found_at", "id"),
        sa.Index("ix_tickets_category_state", "category", "state", "found_at", "id"),
        sa.Index("ix_tickets_lon_lat", "lon", "lat"),
    )
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # the pipeline's deterministic id
    flight_id: Mapped[str | None] = mapped_column(sa.ForeignKey("flights.id", ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(sa.String(16), default="pending_review")
    category: Mapped[str | None] = mapped_column(sa.String(64))
    category_zh: Mapped[str | None] = mapped_column(sa.String(64))
    class_name: Mapped[str] = mapped_column(sa.String(64))
    severity: Mapped[str | None] = mapped_column(sa.String(16))
    score: Mapped[float] = mapped_column(sa.Float)
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    error_m: Mapped[float] = mapped_column(sa.Float)
    size_m: Mapped[float | None] = mapped_column(sa.Float)
    segment_id: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    segment_name: Mapped[str | None] = mapped_column(sa.String(256))
    river: Mapped[str | None] = mapped_column(sa.String(256))
    network_version: Mapped[int | None] = mapped_column(sa.ForeignKey("river_networks.version"))
    chainage_km: Mapped[float | None] = mapped_column(sa.Float)
    bank: Mapped[str | None] = mapped_column(sa.String(8))
    chiefs: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # the segment's chiefs, per level
    chief_level: Mapped[str | None] = mapped_column(sa.String(16))  # level now responsible
    chief_name: Mapped[str | None] = mapped_column(sa.String(128), index=True)  # chief now responsible
    dispatched_chief: Mapped[str | None] = mapped_column(sa.String(128), index=True)  # first chief dispatched to
    rule: Mapped[str | None] = mapped_column(sa.String(64))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    deadline_days: Mapped[int | None] = mapped_column(sa.Integer)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    overdue: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    was_overdue: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    escalations: Mapped[int] = mapped_column(sa.Integer, default=0)
    n_views: Mapped[int] = mapped_column(sa.Integer, default=1)
    best_image: Mapped[str | None] = mapped_column(sa.String(512))
    best_photo_sha: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    best_crop_sha: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    best_box: Mapped[list[float] | None] = mapped_column(sa.JSON)
    properties: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)  # the pipeline's Feature properties
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rectified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    not_seen_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    # The detector whose detection made the ticket (zoo name, sha256 of its ONNX file).
    model_name: Mapped[str | None] = mapped_column(sa.String(256))
    model_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)


class Evidence(Base):
    """Everything that backs a ticket: the views that made it, later flights' seen again /
    not seen, the chief's rectification photo."""

    __tablename__ = "ticket_evidence"
    __table_args__ = (sa.UniqueConstraint("ticket_id", "kind", "flight_id", "find_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[str] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # detection | seen_again | not_seen | rectification
    flight_id: Mapped[str | None] = mapped_column(sa.String(64))
    find_id: Mapped[str | None] = mapped_column(sa.String(256))
    image_name: Mapped[str | None] = mapped_column(sa.String(512))
    photo_sha: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    crop_sha: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    box: Mapped[list[float] | None] = mapped_column(sa.JSON)
    score: Mapped[float | None] = mapped_column(sa.Float)
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    error_m: Mapped[float | None] = mapped_column(sa.Float)
    taken_at: Mapped[str | None] = mapped_column(sa.String(64))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Rectification photos: what the photo's own metadata said against the dispatch
    # (pipeline.tickets.proof problems) and the chief's written reason when it was no proof.
    proof: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[str | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(32))  # created | transition | escalate | seen_again | not_seen | ...
    from_state: Mapped[str | None] = mapped_column(sa.String(16))
    to_state: Mapped[str | None] = mapped_column(sa.String(16))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class DetectionRow(Base):
    """Every detection of a processed flight (detections.jsonl), ticket or not: training data."""

    __tablename__ = "detections"
    id: Mapped[int] = mapped_column(primary_key=True)
    flight_id: Mapped[str] = mapped_column(sa.ForeignKey("flights.id", ondelete="CASCADE"), index=True)
    image_name: Mapped[str] = mapped_column(sa.String(512))
    photo_sha: Mapped[str | None] = mapped_column(sa.String(64))
    class_name: Mapped[str] = mapped_column(sa.String(64))
    score: Mapped[float] = mapped_column(sa.Float)
    box: Mapped[list[float]] = mapped_column(sa.JSON)
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    error_m: Mapped[float | None] = mapped_column(sa.Float)
    ticket_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    rule: Mapped[str | None] = mapped_column(sa.String(64))
    category: Mapped[str | None] = mapped_column(sa.String(64))
    segment_id: Mapped[str | None] = mapped_column(sa.String(128))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    model_name: Mapped[str | None] = mapped_column(sa.String(256))
    model_sha256: Mapped[str | None] = mapped_column(sa.String(64))


# --------------------------------------------------------------------------- patrols (巡河)


class Patrol(Base):
    """One 巡河 of a chief on one segment: the phone's GPS track as recorded and the
    server's figures of it (pipeline.geo.patrol). ``id`` is the phone's UUID: a patrol
    queued offline and sent twice is stored once."""

    __tablename__ = "patrols"
    __table_args__ = (sa.Index("ix_patrols_segment_id_started_at", "segment_id", "started_at"),)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), index=True)
    segment_id: Mapped[str] = mapped_column(sa.String(128))
    segment_name: Mapped[str | None] = mapped_column(sa.String(256))
    river: Mapped[str | None] = mapped_column(sa.String(256))
    network_version: Mapped[int | None] = mapped_column(sa.ForeignKey("river_networks.version"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    points: Mapped[list[list[float]]] = mapped_column(sa.JSON)  # [unix ms, lat, lon, accuracy m | None]
    n_points: Mapped[int] = mapped_column(sa.Integer)
    length_m: Mapped[float] = mapped_column(sa.Float)
    duration_s: Mapped[float] = mapped_column(sa.Float)
    coverage: Mapped[float] = mapped_column(sa.Float)  # share of the segment's length passed near, 0..1
    near_river: Mapped[float] = mapped_column(sa.Float)  # share of the track's points near the segment, 0..1
    max_speed_kmh: Mapped[float] = mapped_column(sa.Float)
    flags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # too_fast | jump | never_near_river | too_few_points
    plausible: Mapped[bool] = mapped_column(sa.Boolean, index=True)
    note: Mapped[str | None] = mapped_column(sa.Text)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublicReport(Base):
    """公众举报: what a member of the public sent. The phone number stays here, for the
    reviewer to call back; the ticket (and every export of it) never carries it."""

    __tablename__ = "public_reports"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    ticket_id: Mapped[str | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    outcome: Mapped[str] = mapped_column(sa.String(16))  # ticket | seen_again
    text: Mapped[str | None] = mapped_column(sa.Text)
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    photo_sha: Mapped[str] = mapped_column(sa.ForeignKey("blobs.sha256"), index=True)
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    taken_at: Mapped[str | None] = mapped_column(sa.String(64))  # the photo's EXIF time, kept before stripping
    address_hash: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the client address: abuse checks, no address kept
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Notification(Base):
    """One delivery of one workflow notification on one channel (serve.notify): what was
    sent, to whom, each try's outcome. ``key`` names the happening (event, ticket, and the
    audit entry or deadline it is about), so a scan never queues it twice."""

    __tablename__ = "notifications"
    __table_args__ = (sa.UniqueConstraint("key", "channel"), sa.Index("ix_notifications_state_next_at", "state", "next_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200))
    event: Mapped[str] = mapped_column(sa.String(16))  # dispatched | sent_back | near_deadline | overdue
    ticket_id: Mapped[str | None] = mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(64))
    recipient: Mapped[str | None] = mapped_column(sa.String(512))
    title: Mapped[str] = mapped_column(sa.String(256))
    body: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(8), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def as_date(d: datetime | None) -> date | None:
    return d.date() if d else None


# --------------------------------------------------------------------------- hand labels


class FrameLabel(Base):
    """One saved version of the hand labels of one frame (a flight photo, an edge snapshot,
    any picture the server holds, by its sha256). Every save is a new row; older versions
    stay, so who changed what is never lost. ``boxes`` are in the frame's full-resolution
    pixels (EXIF orientation applied, as the pipeline decodes it): a list of
    ``{"class", "box": [x1, y1, x2, y2], "origin": "detection"|"drawn", "ticket_id"?, "score"?}``."""

    __tablename__ = "frame_labels"
    __table_args__ = (sa.UniqueConstraint("photo_sha", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    photo_sha: Mapped[str] = mapped_column(sa.ForeignKey("blobs.sha256"), index=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    boxes: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    complete: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # 已完整标注: every object in the frame is boxed
    source: Mapped[str | None] = mapped_column(sa.String(256))  # flight:<id> | camera:<device>/<camera>, for the queues
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# --------------------------------------------------------------------------- site models


class SiteModel(Base):
    """A detector the server holds, content-addressed: ``<data_dir>/models/<sha256>/`` keeps
    ``model.onnx`` and its card ``model.json``. Made by an adaptation job (or registered as
    the configured model the first time a site model replaces it)."""

    __tablename__ = "site_models"
    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(256))
    base_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    base_name: Mapped[str | None] = mapped_column(sa.String(256))
    card: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    job_id: Mapped[int | None] = mapped_column(sa.Integer)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelAssignment(Base):
    """Which model runs where, as a history: the newest row of a scope is in force, the one
    before it is what 回退 (rollback) goes back to. ``model_sha256`` None: the model of the
    server's settings. Scope ``all``: the server's own flight processing (and every site
    without one of its own)."""

    __tablename__ = "model_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(256), index=True)
    model_sha256: Mapped[str | None] = mapped_column(sa.ForeignKey("site_models.sha256"))
    action: Mapped[str] = mapped_column(sa.String(16))  # activate | rollback
    actor: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrainingJob(Base):
    """An adaptation job (models.adapt): fine-tune the model in force on one site's hand
    labels, judge base vs new on held-back frames. Run by the server's training thread."""

    __tablename__ = "training_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(256))  # all | flight:<id> | camera:<device>/<camera> | segment:<id>
    state: Mapped[str] = mapped_column(sa.String(16), default="queued", index=True)  # queued|running|done|failed
    stage: Mapped[str | None] = mapped_column(sa.String(32))  # preparing | training | evaluating | storing
    progress: Mapped[float] = mapped_column(sa.Float, default=0.0)
    minutes: Mapped[float] = mapped_column(sa.Float)
    epochs: Mapped[int] = mapped_column(sa.Integer)
    base_name: Mapped[str | None] = mapped_column(sa.String(256))
    base_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    new_model_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
