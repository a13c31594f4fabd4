"""Flask web app: REST API, Socket.IO relay and the dashboard."""
