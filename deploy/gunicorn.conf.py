"""gunicorn settings for egov-assess (scripts/serve; systemd: deploy/egov-assess-web.service).

Sized for the work the web process does: pages, autosaves and downloads of cached files take
milliseconds to a few hundred; PDF rendering and other long work belong to the task worker.
Every value can be overridden from the environment (GUNICORN_* below) without editing this file.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, two per core plus one (gunicorn's advice), each with a few threads so that a slow
# client or a download does not hold a whole process.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
# A request that takes longer than this is a bug or an attack: the worker is replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
# Recycle workers now and then, so slow growth of memory (caches, fragmentation) cannot pile up.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 200))
# Request line and header limits (the request body is capped by the proxy and by Django).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Behind the reverse proxy on the same host (deploy/nginx.conf.example).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
wsgi_app = "egov.wsgi:application"
