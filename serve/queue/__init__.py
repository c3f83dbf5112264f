"""Flights on a task queue (``heyan serve --workers external`` + ``heyan worker``): Celery with
Redis as broker and result store. The server's dispatcher (``dispatch``) turns a queued job
into one task per photo; ``heyan worker`` processes (``tasks``) run them anywhere the
database and the shared data folder are reachable, record each photo's result in
``photo_results`` and count it on the job in the same transaction; the photo task that
completes the count sends the one reduce task, which runs the single-box pipeline's own
reduce step and import. The database, not the broker, is the record of what is done: a
broker restarted empty costs time, not photos."""
