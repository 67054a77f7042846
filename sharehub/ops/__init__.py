"""Operations: health checks for a load balancer, Prometheus metrics, JSON log lines.

health.py        what /health/ready checks: database, cache, log readers, outboxes
metrics.py       the counters and histogram, the gauges read from the database at scrape time
multiprocess.py  the directory where several server processes keep their counts (no prometheus import)
middleware.py    counts and times every request; serves the three URLs below before other middleware
logs.py          the JSON formatter and the logging settings of Django and uvicorn
views.py, urls.py  /health/live, /health/ready, /metrics
"""
