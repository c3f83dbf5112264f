"""Workflow notifications end to end against local receivers on loopback: a WeCom robot, a
DingTalk robot, an SMS gateway (HTTP) and an SMTP server. 交办, near the deadline, overdue
(督办) and 退回整改 each reach every channel with the right words; a failing channel is
retried until it takes the message and never holds up the workflow or the other channels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from serve_helpers import LiveServer, fake_processor, seed_ticket, serve_config, tiny_jpeg
from support.receivers import HttpReceiver, SmtpReceiver

from heyan.serve.config import NotifyChannel

CHIEFS = {"village": {"name": "村长甲", "phone": "13800000001"}, "township": {"name": "镇长乙", "phone": "13800000002"},
          "county": {"name": "县长丙"}}


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[LiveServer, HttpReceiver, SmtpReceiver]]:
    http, smtp = HttpReceiver(), SmtpReceiver()
    dead = socketless_port()
    chans = (
        NotifyChannel(name="wecom", kind="wecom", url=f"{http.url}/wecom?key=abc"),
        NotifyChannel(name="ding", kind="dingtalk", url=f"{http.url}/ding?access_token=x"),
        NotifyChannel(name="sms", kind="sms", url=f"{http.url}/sms", sms_sign="河长办"),
        NotifyChannel(name="mail", kind="email", smtp_host="127.0.0.1", smtp_port=smtp.port, mail_from="heyan@hzb.local",
                      mail_to=("office@hzb.local",)),
        NotifyChannel(name="dead", kind="wecom", url=f"http://127.0.0.1:{dead}/never", events=("dispatched",), timeout_s=2),
    )
    cfg = serve_config(tmp_path, f"sqlite:///{tmp_path / 'heyan.db'}", notify_channels=chans, notify_interval_s=0,
                       notify_retry_s=60, notify_max_attempts=2)
    live = LiveServer(cfg, fake_processor()).start()
    yield live, http, smtp
    live.stop()
    http.close()
    smtp.close()


def socketless_port() -> int:
    from support.net import free_port

    return free_port()  # nothing listens there: connection refused


def run(live: LiveServer) -> dict:
    r = live.client("admin").post("/api/notifications/run")
    assert r.status_code == 200, r.text
    return r.json()


def test_notifications_reach_every_channel_and_are_retried(setup: tuple[LiveServer, HttpReceiver, SmtpReceiver]) -> None:
    live, http, smtp = setup
    seed_ticket(live, "tk-n1", segment="seg-1", chiefs=CHIEFS, days=3)
    rev = live.client("reviewer")
    assert rev.post("/api/tickets/tk-n1/transition", json={"to": "confirmed"}).status_code == 200
    r = rev.post("/api/tickets/tk-n1/transition", json={"to": "dispatched", "comment": "三日内清理"})
    assert r.status_code == 200  # nothing is sent inside the request: a dead channel cannot slow it

    out = run(live)
    assert out["queued"] == 5 and out["sent"] == 4 and out["failed"] == 1
    wecom = http.posts[[p for p, _ in http.posts].index("/wecom?key=abc")][1]
    assert wecom["msgtype"] == "text" and wecom["text"]["mentioned_mobile_list"] == ["13800000001"]
    text = wecom["text"]["content"]
    assert text.startswith("【河眼·交办】") and "tk-n1" in text and "村长甲（村级河长）" in text and "意见：三日内清理" in text
    ding = next(b for p, b in http.posts if p.startswith("/ding"))
    assert ding["at"]["atMobiles"] == ["13800000001"] and ding["text"]["content"] == text
    sms = next(b for p, b in http.posts if p == "/sms")
    assert sms == {"phone": "13800000001", "text": text, "sign": "河长办"}
    assert len(smtp.mails) == 1 and smtp.mails[0]["To"] == "office@hzb.local"
    assert smtp.mails[0]["Subject"] == "河眼 交办：工单 tk-n1" and smtp.mails[0].get_content().strip() == text
    assert run(live)["queued"] == 0  # the same 交办 is not announced twice

    # The robot is down for the reminder near the deadline: recorded, retried, delivered.
    http.fail_next = 1
    live.clock.advance(timedelta(days=2, hours=12))
    out = run(live)
    assert out["queued"] == 4  # the dead channel only takes 交办
    rows = live.client("reviewer").get("/api/notifications", params={"ticket_id": "tk-n1"}).json()
    near = [n for n in rows if n["event"] == "near_deadline"]
    failed = [n for n in near if n["state"] == "pending" and n["attempts"] == 1]
    assert len(failed) == 1 and "HTTP 500" in failed[0]["last_error"]
    assert "剩余约 12 小时" in near[0]["body"]
    live.clock.advance(timedelta(minutes=2))
    out = run(live)
    assert out["sent"] >= 1
    near = [n for n in live.client("reviewer").get("/api/notifications", params={"ticket_id": "tk-n1"}).json()
            if n["event"] == "near_deadline"]
    assert {n["state"] for n in near} == {"sent"} and max(n["attempts"] for n in near) == 2
    dead = [n for n in live.client("reviewer").get("/api/notifications").json() if n["channel"] == "dead"]
    assert dead[0]["state"] == "failed" and dead[0]["attempts"] == 2 and dead[0]["last_error"]

    # Overdue: 督办.
    live.clock.advance(timedelta(days=1))
    run(live)
    assert any(t.startswith("【河眼·督办】") and "tk-n1" in t for t in http.texts("/wecom?key=abc"))
    assert any(m["Subject"] == "河眼 督办：工单 tk-n1" for m in smtp.mails)

    # 退回整改: the chief rectifies, the reviewer sends it back.
    chief = live.client("chief")
    r = chief.post("/api/tickets/tk-n1/rectify", files={"photo": ("a.jpg", tiny_jpeg(), "image/jpeg")},
                   data={"reason": "测试照片无拍摄信息"})
    assert r.status_code == 200, r.text
    r = rev.post("/api/tickets/tk-n1/transition", json={"to": "dispatched", "comment": "仍有漂浮物"})
    assert r.status_code == 200, r.text
    run(live)
    back = [t for t in http.texts("/wecom?key=abc") if t.startswith("【河眼·退回整改】")]
    assert len(back) == 1 and "整改未通过审核" in back[0] and "意见：仍有漂浮物" in back[0]
