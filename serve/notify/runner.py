"""The notifier thread: every ``notify_interval_s`` it scans for what to announce and
sends what is due. Its own thread, so a slow SMTP server or a dead webhook delays nothing
else."""

from __future__ import annotations

import logging
import threading

from heyan.serve.notify.outbox import deliver_due, scan
from heyan.serve.state import AppState

log = logging.getLogger("heyan.serve.notify")


def run_once(st: AppState) -> tuple[int, int, int]:
    """(queued, sent, failed tries) of one round."""
    now = st.clock.now()
    with st.db.session(write=True) as db:
        queued = scan(db, st.config, now)
        db.commit()
    sent, failed = deliver_due(st.db, st.config, now)
    return queued, sent, failed


class Notifier:
    def __init__(self, st: AppState) -> None:
        self.st = st
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.st.config.notify_interval_s <= 0 or not self.st.config.notify_channels:
            return
        self.thread = threading.Thread(target=self._loop, name="heyan-notifier", daemon=True)
        self.thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def _loop(self) -> None:
        while not self.stop_event.wait(self.st.config.notify_interval_s):
            try:
                run_once(self.st)
            except Exception:  # keep going: a database hiccup must not end notifications
                log.exception("notification round failed")
