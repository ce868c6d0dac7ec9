#!/usr/bin/env bash
# Optional system tools for the full test suite (Debian/Ubuntu, root or password-less sudo):
#   poppler-utils + chromium  checks of the rendered PDF and HTML   (tests/install_browser.sh)
#   r-base-core + r-cran-haven  R opens the SPSS/Stata files        (tests/install_r_haven.sh)
# The SLURM test installs slurm-wlm and munge itself (tests/slurm/cluster.sh).
# Without these tools the tests that need them skip and say why; the workflow needs none of them.
set -euo pipefail
cd "$(dirname "$0")"
sh ./install_browser.sh
bash ./install_r_haven.sh
