"""Notifications of the ticket workflow (交办, near the deadline, overdue 督办, 退回整改)
through pluggable channels (WeCom/DingTalk group robots, SMTP e-mail, an SMS gateway).

The workflow never waits for them: ``scan`` finds what happened (audit log, deadlines) and
queues one delivery per channel in the ``notifications`` table; ``deliver_due`` sends what
is due and records each try, retrying with a growing pause. A channel that is down only
fills its own rows with errors."""
