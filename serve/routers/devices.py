"""/api/devices: edge boxes — register, issue a token (shown once, stored hashed), revoke.
The edge API that uses these tokens comes later; ``/api/devices/me`` lets a box check its
token now."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from serve.deps import DbId, Principal, app_state, device_only, get_db, require
from serve.errors import ApiError
from serve.models import Device
from serve.schemas import DeviceCreateIn, DeviceOut, DeviceTokenOut
from serve.security import DEVICE_PREFIX, new_token, token_hash

router = APIRouter(prefix="/api/devices", tags=["devices"])


def _issue(dev: Device, request: Request) -> str:
    token = new_token(DEVICE_PREFIX)
    dev.token_hash = token_hash(token)
    dev.token_prefix = token[:8]
    dev.token_issued_at = app_state(request).clock.now()
    dev.revoked_at = None
    return token


@router.get("", response_model=list[DeviceOut], summary="All devices")
def list_devices(_: Principal = Depends(require("devices.admin")), db: Session = Depends(get_db)) -> list[DeviceOut]:
    return [DeviceOut.model_validate(d) for d in db.scalars(sa.select(Device).order_by(Device.id))]


@router.post("", response_model=DeviceTokenOut, status_code=201, summary="Register a device and issue its token")
def create_device(body: DeviceCreateIn, request: Request, p: Principal = Depends(require("devices.admin")),
                  db: Session = Depends(get_db)) -> DeviceTokenOut:
    if db.scalar(sa.select(Device.id).where(Device.name == body.name)) is not None:
        raise ApiError(409, f"device {body.name!r} exists")
    dev = Device(name=body.name, description=body.description, created_by=p.name, created_at=app_state(request).clock.now())
    token = _issue(dev, request)
    db.add(dev)
    db.commit()
    return DeviceTokenOut(device=DeviceOut.model_validate(dev), token=token)


@router.get("/me", response_model=DeviceOut, summary="The device a device token belongs to")
def device_me(p: Principal = Depends(device_only)) -> DeviceOut:
    return DeviceOut.model_validate(p.device)


def _get(db: Session, device_id: int) -> Device:
    dev = db.get(Device, device_id)
    if dev is None:
        raise ApiError(404, f"no device {device_id}")
    return dev


@router.get("/{device_id}", response_model=DeviceOut, summary="One device")
def get_device(device_id: DbId, _: Principal = Depends(require("devices.admin")), db: Session = Depends(get_db)) -> DeviceOut:
    return DeviceOut.model_validate(_get(db, device_id))


@router.post("/{device_id}/token", response_model=DeviceTokenOut, summary="Issue a new token (the old one stops working)")
def reissue_token(device_id: DbId, request: Request, _: Principal = Depends(require("devices.admin")),
                  db: Session = Depends(get_db)) -> DeviceTokenOut:
    dev = _get(db, device_id)
    token = _issue(dev, request)
    db.commit()
    return DeviceTokenOut(device=DeviceOut.model_validate(dev), token=token)


@router.delete("/{device_id}/token", response_model=DeviceOut, summary="Revoke the device's token")
def revoke_device(device_id: DbId, request: Request, _: Principal = Depends(require("devices.admin")),
                  db: Session = Depends(get_db)) -> DeviceOut:
    dev = _get(db, device_id)
    dev.token_hash = None
    dev.revoked_at = app_state(request).clock.now()
    db.commit()
    return DeviceOut.model_validate(dev)
