"""Where notifications go. Each channel sends one message or raises ``DeliveryError``
with the reason; the outbox records it and tries again later."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Protocol

import httpx

from heyan.serve.config import NotifyChannel
from heyan.serve.notify.messages import Message


class DeliveryError(Exception):
    pass


class Channel(Protocol):
    name: str

    def recipient(self, msg: Message) -> str | None:
        """Who this message goes to on this channel; None: nobody (e.g. no phone for SMS)."""
        ...

    def send(self, msg: Message) -> None: ...


def _post(url: str, body: dict[str, object], timeout: float) -> httpx.Response:
    try:
        r = httpx.post(url, json=body, timeout=timeout)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
    if r.status_code >= 300:
        raise DeliveryError(f"HTTP {r.status_code}: {r.text[:200]}")
    return r


class GroupRobot:
    """A WeCom (企业微信) or DingTalk (钉钉) group robot webhook: a text message in the
    office's group, @-mentioning the chief by phone where the ticket has one. Both answer
    ``{"errcode": 0}`` when they took it."""

    def __init__(self, cfg: NotifyChannel) -> None:
        assert cfg.url
        self.name, self.kind, self.url, self.timeout = cfg.name, cfg.kind, cfg.url, cfg.timeout_s

    def recipient(self, msg: Message) -> str | None:
        return self.url.split("?")[0]

    def send(self, msg: Message) -> None:
        mobiles = [msg.phone] if msg.phone else []
        if self.kind == "wecom":
            body: dict[str, object] = {"msgtype": "text", "text": {"content": msg.text, "mentioned_mobile_list": mobiles}}
        else:
            body = {"msgtype": "text", "text": {"content": msg.text}, "at": {"atMobiles": mobiles, "isAtAll": False}}
        r = _post(self.url, body, self.timeout)
        try:
            code = r.json().get("errcode", 0)
        except ValueError:
            raise DeliveryError(f"not a robot's answer: {r.text[:200]}") from None
        if code != 0:
            raise DeliveryError(f"robot refused: errcode {code}: {r.json().get('errmsg')}")


class Email:
    """SMTP e-mail to the configured addresses (the office's mailbox, the chiefs' list)."""

    def __init__(self, cfg: NotifyChannel) -> None:
        self.cfg = cfg
        self.name = cfg.name

    def recipient(self, msg: Message) -> str | None:
        return ", ".join(self.cfg.mail_to) or None

    def send(self, msg: Message) -> None:
        c = self.cfg
        m = EmailMessage()
        m["Subject"], m["From"], m["To"] = msg.title, c.mail_from, ", ".join(c.mail_to)
        m.set_content(msg.text)
        try:
            with smtplib.SMTP(c.smtp_host or "localhost", c.smtp_port, timeout=c.timeout_s) as s:
                if c.smtp_starttls:
                    s.starttls()
                if c.smtp_user:
                    s.login(c.smtp_user, c.smtp_password or "")
                s.send_message(m)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None


class SmsGateway:
    """An SMS gateway behind an HTTP interface: POST {"phone", "text", "sign"} as JSON, any
    2xx is taken. Vendors' own APIs sit behind a small adapter speaking this."""

    def __init__(self, cfg: NotifyChannel) -> None:
        assert cfg.url
        self.name, self.url, self.timeout, self.sign = cfg.name, cfg.url, cfg.timeout_s, cfg.sms_sign

    def recipient(self, msg: Message) -> str | None:
        return msg.phone

    def send(self, msg: Message) -> None:
        if not msg.phone:
            raise DeliveryError("no phone number for the chief")
        _post(self.url, {"phone": msg.phone, "text": msg.text, "sign": self.sign}, self.timeout)


def build(cfg: NotifyChannel) -> Channel:
    if cfg.kind in ("wecom", "dingtalk"):
        return GroupRobot(cfg)
    if cfg.kind == "email":
        return Email(cfg)
    return SmsGateway(cfg)
