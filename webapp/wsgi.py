"""WSGI entry for production servers: ``deploy/entrypoint.sh web`` runs gunicorn on it.

Two gunicorn workers serve it, WebSocket included (simple-websocket), and
`webapp.realtime.async_mode` follows the one running it:

- ``gevent``: a greenlet per connection. gunicorn monkey-patches the process before it
  imports this module; psycopg2, a C library the patching cannot reach, is made to
  wait cooperatively here (psycogreen), so a query never stops the other connections,
  and CPU-bound request work runs in a thread of its own (`webapp.offload`);
- ``gthread``: an OS thread per connection, WebSocket included.

Either way Python hands the GIL over often (`onegin.gil`): under gthread an event for
100 watchers wakes 100 writer threads, which busy threads would otherwise delay; under
gevent the loop gets it back from offloaded work within 0.5 ms.

One worker process per server either way: Socket.IO sessions live in that process, so
more capacity means more servers (replicas) behind a load balancer with sticky
sessions, all sharing the Redis message queue that `webapp.realtime` sets up whenever
the events go through Redis.

Settings come from the environment (``ONEGIN_*``, or a file named by
``ONEGIN_CONFIG``), exactly as for every other role, and logs are configured from
them as `onegin web` configures its own. Unlike `onegin web` this starts no local
workers: it is for a cluster, where the workers run elsewhere.
"""

from __future__ import annotations

from onegin.gil import hand_over_often
from onegin.logs import configure_logging
from onegin.settings import load_settings
from webapp.app import create_app
from webapp.realtime import async_mode

if async_mode() == "gevent":
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()
hand_over_often()
settings = load_settings()
configure_logging(settings)
app = create_app(settings)
