"""A minimal Django project served beside Sharehub under the same ASGI server and worker count.

The database is the same kind as Sharehub's and configured the same way (SQLite in WAL mode with
IMMEDIATE transactions and a 20 s busy timeout, or PostgreSQL through psycopg's pool): what differs
is everything Sharehub adds on top of Django. BENCH_HELLO_DATABASE_URL picks PostgreSQL; otherwise
SQLite in BENCH_HELLO_DIR.
"""

import os
from pathlib import Path

import dj_database_url

SECRET_KEY = "bench-hello-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["bench.api.hello"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.api.hello.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_url = os.environ.get("BENCH_HELLO_DATABASE_URL", "")
if _url:
    DATABASES = {"default": dj_database_url.parse(_url, conn_max_age=0)}
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": 8, "timeout": 10}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": Path(os.environ.get("BENCH_HELLO_DIR", ".")) / "hello.sqlite3",
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
