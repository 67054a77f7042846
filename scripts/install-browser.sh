#!/usr/bin/env bash
# Debian's Chromium (for the Playwright browser tests) and a CJK font for screenshots.
# Playwright never downloads a browser here: the tests point it at /usr/bin/chromium.
set -euo pipefail
if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi wqy; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v apt-get >/dev/null; then
  echo "The browser tests need Chromium (at /usr/bin/chromium) and the WenQuanYi Micro Hei font; this system" >&2
  echo "has no apt-get, so install them with its package manager and run make test again." >&2
  exit 1
fi
echo "The browser tests need Debian's chromium and fonts-wqy-microhei (Chinese text in screenshots);"
echo "installing them with apt-get${SUDO:+ (through sudo)}, which downloads over 100 MB on a fresh system:"
echo "  ${SUDO:+$SUDO }apt-get update"
$SUDO apt-get update -qq
echo "  ${SUDO:+$SUDO }apt-get install -y chromium fonts-wqy-microhei"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
echo "Installed chromium $(chromium --version 2>/dev/null | awk '{print $2}') and fonts-wqy-microhei."
