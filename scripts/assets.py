"""Copy the front-end files that the pages use from node_modules (installed by `npm ci`) into
sharehub/web/static/vendor. Nothing is fetched at run time."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "sharehub" / "web" / "static" / "vendor"
FILES = {
    "bootstrap/dist/css/bootstrap.min.css": "bootstrap.min.css",
    "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap.bundle.min.js",
    "bootstrap-icons/font/bootstrap-icons.min.css": "bootstrap-icons.min.css",
    "bootstrap-icons/font/fonts/bootstrap-icons.woff2": "fonts/bootstrap-icons.woff2",
    "bootstrap-icons/font/fonts/bootstrap-icons.woff": "fonts/bootstrap-icons.woff",
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    # The article editor (sharehub/knowledge): loaded on the article form only.
    "easymde/dist/easymde.min.js": "easymde/easymde.min.js",
    "easymde/dist/easymde.min.css": "easymde/easymde.min.css",
}


def main() -> int:
    modules = ROOT / "node_modules"
    missing = [source for source in FILES if not (modules / source).exists()]
    if missing:
        print(f"assets: run `npm ci` first; missing {', '.join(missing)}", file=sys.stderr)
        return 1
    for source, target in FILES.items():
        destination = VENDOR / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(modules / source, destination)
    print(f"assets: {len(FILES)} files in {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
