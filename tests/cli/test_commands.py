"""Each `sharehub` command lives with the app whose rules it serves, so a newcomer finds it there."""

from __future__ import annotations

from django.core.management import get_commands


def test_each_command_lives_with_its_app():
    commands = get_commands()
    assert {name: commands[name] for name in ("import", "token", "createadmin", "audit", "reindex")} == {
        "import": "sharehub.catalog",
        "token": "sharehub.org",
        "createadmin": "sharehub.org",
        "audit": "sharehub.events",
        "reindex": "sharehub.search",
    }
    assert {commands[name] for name in ("serve", "worker", "demo")} == {"sharehub.web"}
