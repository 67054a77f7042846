"""Prometheus metrics (prometheus_client).

Counted where the work is done, in every process: HTTP requests by method, route pattern and status, and
their latency (sharehub.ops.middleware); webhook deliveries and mails by outcome (sharehub.feeds); API
rate-limit refusals (sharehub.throttling). Under `sharehub serve` these add up across its worker processes
(sharehub.ops.multiprocess). Read from the database when scraped, so the same in every process: how far
each log reader is behind the head of the log, and the outboxes' pending and due webhook deliveries and
mails (a constant number of queries).
"""

from __future__ import annotations

import logging

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from sharehub.ops import multiprocess

logger = logging.getLogger(__name__)
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))

http_requests = Counter(
    "sharehub_http_requests",
    "HTTP requests answered, by method, route pattern and status.",
    ["method", "route", "status"],
)
http_latency = Histogram(
    "sharehub_http_request_duration_seconds",
    "Time from a request reaching Django to its response (headers; a streamed body is not waited for).",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
webhook_deliveries = Counter(
    "sharehub_webhook_deliveries",
    "Webhook delivery attempts by outcome: delivered, retrying (failed, tried again later), "
    "failed (given up), dropped (not sent: the endpoint is off or its owner may no longer see it).",
    ["outcome"],
)
mails = Counter(
    "sharehub_mails",
    "Mails by outcome: sent, retrying (the server refused, tried again later), failed (given up), "
    "dropped (nobody or nothing left to send).",
    ["outcome"],
)
rate_limited = Counter(
    "sharehub_rate_limited",
    "API requests refused by a rate limit, by what was counted: token, user (a browser session) or address.",
    ["limit"],
)


_children: dict[tuple, tuple] = {}  # (method, route, status) -> its counter and histogram, as labels() gives them


def request_done(method: str, route: str, status: int, seconds: float) -> None:
    """Count and time one request. Each label set's children are kept: labels() on every request cost more
    than the counting itself in this process's memory."""
    key = (method if method in METHODS else "other", route, status)
    found = _children.get(key)
    if found is None:
        found = _children[key] = (http_requests.labels(key[0], route, str(status)), http_latency.labels(key[0], route))
    found[0].inc()
    found[1].observe(seconds)


def webhook_attempt(outcome: str) -> None:
    webhook_deliveries.labels(outcome).inc()


def mail_attempt(outcome: str) -> None:
    mails.labels(outcome).inc()


def refused(key: str) -> None:
    """A rate limit refused a request counted against `key` (`token:...`, `user:...`, `address:...`)."""
    rate_limited.labels(key.partition(":")[0] or "other").inc()


class _ThisProcess:
    """Without a multiprocess directory (tests, a server started otherwise): this process's own metrics."""

    def collect(self):
        return REGISTRY.collect()


class _FromDatabase:
    """Gauges read when scraped."""

    def collect(self):
        from sharehub.ops import health

        try:
            now, readers = health.now(), health.readers()
            backlogs = {"webhook deliveries": health.webhook_backlog(now), "mails": health.mail_backlog(now)}
        except Exception:  # the database does not answer: say so, and still give the counts
            logger.warning("metrics: the database did not answer", exc_info=True)
            yield GaugeMetricFamily("sharehub_database_up", "Whether the database answered this scrape.", value=0)
            return
        yield GaugeMetricFamily("sharehub_database_up", "Whether the database answered this scrape.", value=1)
        lag = GaugeMetricFamily(
            "sharehub_log_reader_lag_events", "Events in the log that a reader has not read yet.", labels=["reader"]
        )
        age = GaugeMetricFamily(
            "sharehub_log_reader_lag_seconds",
            "Age of the oldest event a reader has not read yet (0 when it is caught up).",
            labels=["reader"],
        )
        for reader in readers:
            lag.add_metric([reader.name], reader.behind)
            age.add_metric([reader.name], reader.seconds_behind(now))
        yield lag
        yield age
        for what, counts in backlogs.items():
            name = "sharehub_" + what.replace(" ", "_")
            yield GaugeMetricFamily(f"{name}_pending", f"Pending {what} (waiting, due or being sent).",
                                    value=counts["pending"])  # fmt: skip
            yield GaugeMetricFamily(f"{name}_due", f"Pending {what} whose next attempt is due.", value=counts["due"])


def exposition() -> bytes:
    """The text a scrape gets: every process's counts, then the gauges read from the database now."""
    registry = CollectorRegistry(auto_describe=False)
    path = multiprocess.directory()
    if path is not None:
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(registry, path=str(path))
    else:
        registry.register(_ThisProcess())
    registry.register(_FromDatabase())
    return generate_latest(registry)
