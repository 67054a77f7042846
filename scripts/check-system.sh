#!/usr/bin/env bash
# The first step of `make setup`: check the system packages that `make demo` and `make test` need,
# and name the missing ones with the command that installs them, before anything is built.
# PYTHON picks the interpreter (default python3.11).
set -uo pipefail
PYTHON="${PYTHON:-python3.11}"
missing=()   # Debian package names
why=()       # what each is for, in the same order

need() { missing+=("$1"); why+=("$2"); }

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  need python3.11 "Python 3.11 ($PYTHON is not on the PATH)"
  need python3.11-venv "venv and ensurepip for Python 3.11"
elif ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  found="$("$PYTHON" -c 'import platform; print(platform.python_version())' 2>/dev/null)"
  need python3.11 "Python 3.11 ($PYTHON ${found:+is Python $found}${found:-does not run})"
elif ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  need python3.11-venv "venv and ensurepip for Python 3.11, to create .venv"
fi
command -v msgfmt >/dev/null 2>&1 || need gettext "msgfmt, to compile the translations"
command -v node >/dev/null 2>&1 || need nodejs "Node.js, for the front-end assets"
command -v npm >/dev/null 2>&1 || need npm "npm, to install the front-end assets from the npm registry"
command -v make >/dev/null 2>&1 || need make "make, to run the setup"

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
{
  echo "Sharehub cannot be set up yet: this system lacks"
  for i in "${!missing[@]}"; do
    echo "  - ${missing[$i]}: ${why[$i]}"
  done
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo "
  echo "On Debian or Ubuntu, install them with:"
  echo "  ${SUDO}apt-get update && ${SUDO}apt-get install -y ${missing[*]}"
  echo "then run make again. (Elsewhere, install the same programs with your system's package manager.)"
} >&2
exit 1
