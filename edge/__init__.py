"""The on-site runner (``heyan edge``): sources, motion gate, detection, tracking, events,
outfall watch, on-disk outbox, uploader and heartbeat. See edge/README.md.

Depends on ``vision``, ``models`` and ``pipeline.calibration`` only; nothing server-side.
"""
