"""WSGI entry for production servers: ``gunicorn -w 1 --threads 100 webapp.wsgi:app``.

The app runs Flask-SocketIO in threading mode with simple-websocket, which
gunicorn's threaded (gthread) worker serves, WebSocket included, with no
eventlet/gevent monkey patching. One worker process per server: Socket.IO
sessions live in that process, so more capacity means more servers (replicas)
behind a load balancer with sticky sessions, all sharing the Redis message queue
that `webapp.realtime` sets up whenever the events go through Redis.

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

hand_over_often()  # a thread per WebSocket: an event's writers must not wait on busy threads
settings = load_settings()
configure_logging(settings)
app = create_app(settings)
