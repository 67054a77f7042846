"""The data-exchange benchmark (`python -m bench.exchange`); see README.md."""
