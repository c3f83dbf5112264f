"""The Celery application of the server's settings: Redis broker and result store, late
acknowledgement, tasks given back when their worker dies, one message at a time per worker
process, and three queues that workers empty in order (urgent, reduce, photos)."""

from __future__ import annotations

from typing import Any

from heyan.serve.config import ServeConfig
from heyan.vision.common import InputError

URGENT, REDUCE, PHOTOS = "heyan.urgent", "heyan.reduce", "heyan.photos"
# The order a worker polls them in (kombu's "priority" queue order: strictly this order, not
# round-robin): a small urgent flight waits at most for the photos already running.
QUEUES = (URGENT, REDUCE, PHOTOS)
PHOTO_TASK, REDUCE_TASK = "heyan.photo", "heyan.reduce_flight"


class QueueConfigError(InputError):
    """Settings that cannot run the task queue."""


def make_celery(config: ServeConfig) -> Any:
    try:
        from celery import Celery
        from kombu import Queue
    except ImportError:  # the single box does not install it
        raise QueueConfigError("the task queue needs Celery and the Redis client: pip install 'heyan[queue]'") from None
    if not config.broker_url:
        raise QueueConfigError("no task queue broker: set serve_broker_url (e.g. redis://queue.intranet:6379/0) "
                               "or pass --broker")
    if not config.broker_url.startswith(("redis://", "rediss://", "unix://")):
        raise QueueConfigError(f"serve_broker_url {config.broker_url!r}: expected a Redis URL (redis://host:6379/0)")
    vis = config.queue_visibility_timeout_s
    app = Celery("heyan", broker=config.broker_url, backend=config.results_url, set_as_current=False)
    transport = {
        "visibility_timeout": vis,
        "queue_order_strategy": "priority",
        # Look for tasks of dead workers often enough for the visibility timeout to be the delay.
        "unacked_restore_interval": max(1, min(10, int(vis / 4))),
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 5,
        "health_check_interval": 10,
    }
    app.conf.update(
        task_queues=[Queue(q, routing_key=q) for q in QUEUES],
        task_default_queue=PHOTOS,
        task_acks_late=True,  # acknowledged after the task ran: a killed worker's task is done again
        task_reject_on_worker_lost=True,  # a pool process that died gives its task back at once
        worker_prefetch_multiplier=1,  # no worker sits on tasks others could run
        task_serializer="json", result_serializer="json", accept_content=["json"],
        broker_transport_options=transport,
        result_backend_transport_options={"visibility_timeout": vis, "socket_connect_timeout": 5},
        result_expires=7 * 24 * 3600,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a broker restart is waited out, never fatal
        worker_cancel_long_running_tasks_on_connection_loss=False,  # let it finish: its result is kept in the database
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    return app
