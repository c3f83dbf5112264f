"""A device's health as the server sees it: its latest heartbeat, and ``silent`` when none
came for ``edge_silent_after`` heartbeat intervals (a box that is off, offline, or whose
token was refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from heyan.serve.schemas.devices import DeviceOut
from heyan.serve.tables import Device


def is_silent(dev: Device, now: datetime, after_s: float) -> bool:
    return dev.last_heartbeat_at is None or (now - dev.last_heartbeat_at).total_seconds() > after_s


def device_out(dev: Device, now: datetime, silent_after_s: float) -> DeviceOut:
    out = DeviceOut.model_validate(dev)
    out.silent = is_silent(dev, now, silent_after_s)
    out.silent_after_s = silent_after_s
    return out


def store_heartbeat(dev: Device, health: dict[str, Any], now: datetime) -> None:
    dev.health = health
    dev.last_heartbeat_at = now
    dev.last_seen_at = now
