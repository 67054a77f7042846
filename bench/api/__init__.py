"""The API and pages benchmark (issue 11): `make bench-api` or `python -m bench.api`."""
