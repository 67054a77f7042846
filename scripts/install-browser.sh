#!/usr/bin/env bash
# Debian's Chromium (for the Playwright browser tests) and a CJK font for screenshots.
# Playwright never downloads a browser here: the tests point it at /usr/bin/chromium.
set -euo pipefail
if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi wqy; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
