"""How many tasks wait in a broker queue: the signal GPU-worker autoscaling follows.

Asked through kombu, so one code path counts Redis lists (every priority
sub-list included) and the embedded filesystem transport's message files.
Waiting means not yet taken by a worker: a trial being trained is not counted.
"""

from __future__ import annotations

from celery import Celery
from kombu.exceptions import ChannelError, OperationalError

from onegin.celery_app import GPU_QUEUE


class BrokerUnavailable(ConnectionError):
    """The broker could not be reached to count a queue."""


def queue_depth(app: Celery, queue: str = GPU_QUEUE) -> int:
    """Messages waiting in ``queue``; 0 for a queue nobody has declared yet."""
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1)
            channel = conn.default_channel
            try:
                return int(channel.queue_declare(queue=queue, passive=True).message_count)
            except ChannelError:
                return 0  # no binding yet: nothing was ever sent there
    except (OperationalError, OSError) as exc:
        raise BrokerUnavailable(f"cannot count queue {queue!r}: {exc}") from exc
