"""/api/devices: edge boxes — register, issue a token (shown once, stored hashed), revoke,
and see each box's latest heartbeat and whether it went silent. The boxes use their tokens
on /api/edge (serve/routers/edge.py); ``/api/devices/me`` lets a box check its token."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from heyan.serve.deps import DbId, Principal, app_state, device_only, get_db, require
from heyan.serve.edge.devices import device_out
from heyan.serve.errors import ApiError
from heyan.serve.schemas.devices import DeviceCreateIn, DeviceOut, DeviceTokenOut
from heyan.serve.security import DEVICE_PREFIX, new_token, token_hash
from heyan.serve.tables import Device

router = APIRouter(prefix="/api/devices", tags=["devices"])


def _out(dev: Device, request: Request) -> DeviceOut:
    st = app_state(request)
    return device_out(dev, st.clock.now(), st.config.edge_silent_after_s)


def _issue(dev: Device, request: Request) -> str:
    token = new_token(DEVICE_PREFIX)
    dev.token_hash = token_hash(token)
    dev.token_prefix = token[:8]
    dev.token_issued_at = app_state(request).clock.now()
    dev.revoked_at = None
    return token


@router.get("", response_model=list[DeviceOut], summary="All devices")
def list_devices(request: Request, _: Principal = Depends(require("devices.admin")),
                 db: Session = Depends(get_db)) -> list[DeviceOut]:
    return [_out(d, request) for d in db.scalars(sa.select(Device).order_by(Device.id))]


@router.post("", response_model=DeviceTokenOut, status_code=201, summary="Register a device and issue its token")
def create_device(body: DeviceCreateIn, request: Request, p: Principal = Depends(require("devices.admin")),
                  db: Session = Depends(get_db)) -> DeviceTokenOut:
    if db.scalar(sa.select(Device.id).where(Device.name == body.name)) is not None:
        raise ApiError(409, f"device {body.name!r} exists", code="device_exists")
    dev = Device(name=body.name, description=body.description, created_by=p.name, created_at=app_state(request).clock.now())
    token = _issue(dev, request)
    db.add(dev)
    db.commit()
    return DeviceTokenOut(device=_out(dev, request), token=token)


@router.get("/me", response_model=DeviceOut, summary="The device a device token belongs to")
def device_me(request: Request, p: Principal = Depends(device_only)) -> DeviceOut:
    assert p.device is not None
    return _out(p.device, request)


def _get(db: Session, device_id: int) -> Device:
    dev = db.get(Device, device_id)
    if dev is None:
        raise ApiError(404, f"no device {device_id}", code="no_device")
    return dev


@router.get("/{device_id}", response_model=DeviceOut, summary="One device")
def get_device(device_id: DbId, request: Request, _: Principal = Depends(require("devices.admin")), db: Session = Depends(get_db)) -> DeviceOut:
    return _out(_get(db, device_id), request)


@router.post("/{device_id}/token", response_model=DeviceTokenOut, summary="Issue a new token (the old one stops working)")
def reissue_token(device_id: DbId, request: Request, _: Principal = Depends(require("devices.admin")),
                  db: Session = Depends(get_db)) -> DeviceTokenOut:
    dev = _get(db, device_id)
    token = _issue(dev, request)
    db.commit()
    return DeviceTokenOut(device=_out(dev, request), token=token)


@router.delete("/{device_id}/token", response_model=DeviceOut, summary="Revoke the device's token")
def revoke_device(device_id: DbId, request: Request, _: Principal = Depends(require("devices.admin")),
                  db: Session = Depends(get_db)) -> DeviceOut:
    dev = _get(db, device_id)
    dev.token_hash = None
    dev.revoked_at = app_state(request).clock.now()
    db.commit()
    return _out(dev, request)
