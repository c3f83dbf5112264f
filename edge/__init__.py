"""The on-site runner (``heyan edge``): sources, motion gate, detection, tracking, events,
outfall watch, on-disk outbox, uploader and heartbeat. See edge/README.md.

Depends on ``vision``, ``models``, ``pipeline.geo.calibration`` and ``pipeline.tickets.rules`` (the event
kinds, shared with the server) only; nothing server-side.
"""
