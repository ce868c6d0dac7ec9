#!/bin/sh
# Create the project's virtual environment with the exact locked versions.
# Used by `make`; safe to rerun (it only ever installs what requirements.lock pins).
set -eu
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "nenbone needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1)" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    # Debian/Ubuntu ship venv separately; install it when we may, else say what is missing.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      pyver=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      apt-get update -qq && (apt-get install -y -qq "python$pyver-venv" || apt-get install -y -qq python3-venv)
      "$PYTHON" -m venv "$VENV"
    else
      echo "Cannot create a virtual environment: install your distribution's python3-venv package" >&2
      exit 1
    fi
  fi
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.lock
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
