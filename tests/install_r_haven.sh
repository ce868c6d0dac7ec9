#!/usr/bin/env bash
# Install R (Debian r-base-core) + haven so tests/test_haven.py can check that R opens the files
# nenbone writes. Idempotent: does nothing when Rscript can already load haven.
# Cost measured on a 2-core machine (Debian bookworm): 38 packages, ~44 MB download, ~86 MB on disk;
# install took 12 s with the .debs already in apt's cache (add the 44 MB download on a fresh machine).
set -euo pipefail
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'suppressPackageStartupMessages(library(haven))' >/dev/null 2>&1; then
  echo "R + haven already installed: $(Rscript --version 2>&1 | head -1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends r-base-core r-cran-haven >/dev/null
Rscript -e 'suppressPackageStartupMessages(library(haven)); cat("haven", as.character(packageVersion("haven")), "\n")'
