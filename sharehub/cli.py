"""The `sharehub` command: Django's management commands with Sharehub's settings preset.

`sharehub serve`, `sharehub demo`, `sharehub token create alice`, `sharehub audit verify`, ...
Every command honours SHAREHUB_DATA_DIR and the other settings in the README.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharehub.settings")
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "sharehub"
    from sharehub.config import ConfigError
    from sharehub.ops import multiprocess

    multiprocess.use_data_dir()  # before anything imports prometheus_client: counts add up across processes

    try:
        from django.core.management import ManagementUtility

        ManagementUtility(argv).execute()
    except ConfigError as error:
        print(f"sharehub: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
