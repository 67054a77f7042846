"""The one place that decides access. See `engine` for the rules."""
