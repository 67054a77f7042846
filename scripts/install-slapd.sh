#!/usr/bin/env bash
# Debian's OpenLDAP server and tools, for the directory sign-in tests (tests/directory/slapd.py starts its own
# slapd on a free port in a temporary folder; the system's slapd service is never started or configured).
set -euo pipefail
if [ -x /usr/sbin/slapd ] && command -v ldapsearch >/dev/null; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v apt-get >/dev/null; then
  echo "The directory tests need OpenLDAP's slapd (at /usr/sbin/slapd) and its tools; this system has no" >&2
  echo "apt-get, so install them with its package manager and run make test again." >&2
  exit 1
fi
echo "The directory tests need Debian's slapd and ldap-utils; installing them with apt-get${SUDO:+ (through sudo)}:"
echo "  ${SUDO:+$SUDO }apt-get update && ${SUDO:+$SUDO }apt-get install -y slapd ldap-utils"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq slapd ldap-utils >/dev/null
echo "Installed $(/usr/sbin/slapd -VV 2>&1 | head -1 | sed 's/^[@( ]*//')."
