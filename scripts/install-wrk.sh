#!/usr/bin/env bash
# Debian's wrk, the HTTP load generator of the API benchmark (bench/api).
set -euo pipefail
command -v wrk >/dev/null && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v apt-get >/dev/null; then
  echo "The API benchmark needs wrk; this system has no apt-get, so install wrk with its package manager." >&2
  exit 1
fi
echo "The API benchmark needs wrk; installing it with apt-get${SUDO:+ (through sudo)}:"
echo "  ${SUDO:+$SUDO }apt-get update && ${SUDO:+$SUDO }apt-get install -y wrk"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
echo "Installed $(wrk --version 2>&1 | head -1)."
