#!/bin/sh
# Installs Debian's chromium (headless browser check of the rendered HTML) and poppler-utils
# (pdftotext, pdfinfo, pdffonts, pdfimages, pdftoppm: checks of the rendered PDF).
# Idempotent: returns at once when everything asked for is there.
# Usage: sh tests/install_browser.sh              chromium and poppler-utils
#        sh tests/install_browser.sh --poppler    poppler-utils only
# Needs root (or sudo) and the Debian mirror.
set -eu

PACKAGES="chromium poppler-utils"
[ "${1:-}" = "--poppler" ] && PACKAGES="poppler-utils"

have() {
    for tool in pdftotext pdfinfo pdffonts pdfimages pdftoppm; do
        command -v "$tool" >/dev/null 2>&1 || return 1
    done
    case "$PACKAGES" in
        *chromium*) command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || return 1 ;;
    esac
}

if have; then
    echo "install_browser.sh: already installed: $PACKAGES"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install_browser.sh: not root and no password-less sudo: cannot install $PACKAGES" >&2
        exit 1
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser.sh: no apt-get (not Debian/Ubuntu): install $PACKAGES by hand" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES

if have; then
    echo "install_browser.sh: installed $PACKAGES"
else
    echo "install_browser.sh: apt-get finished but a tool of $PACKAGES is still missing" >&2
    exit 1
fi
