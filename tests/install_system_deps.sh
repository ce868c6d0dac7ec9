#!/usr/bin/env bash
# Optional system tools for the full test suite (Debian/Ubuntu, root or password-less sudo):
#   poppler-utils + chromium  checks of the rendered PDF and HTML   (tests/install_browser.sh)
#   r-base-core + r-cran-haven  R opens the SPSS/Stata files        (tests/install_r_haven.sh)
#   r-cran-survival             R's survival: rebuilds tests/r_reference (the golden values are
#                               committed, so the tests never need it) and `benchmarks/run.py cox`
# The SLURM test installs slurm-wlm and munge itself (tests/slurm/cluster.sh).
# Without these tools the tests that need them skip and say why; the workflow needs none of them.
set -euo pipefail
cd "$(dirname "$0")"
sh ./install_browser.sh
bash ./install_r_haven.sh
if ! Rscript -e 'suppressPackageStartupMessages(library(survival))' >/dev/null 2>&1; then
  SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends r-cran-survival >/dev/null
fi
Rscript -e 'cat("survival", as.character(packageVersion("survival")), "\n")'
