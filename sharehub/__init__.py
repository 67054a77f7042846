"""Sharehub: a self-hosted information-sharing platform."""

__version__ = "0.1.0"
