#!/usr/bin/env bash
# fogg's attribution beside ChannelAttribution 2.2.5's, on the package's
# own sample file: installs the package from PyPI into a throwaway venv and
# runs tools/channelattribution-parity.py (orders 1 to 3, with and without
# nulls: removal effects within 4σ of the package's simulation, heuristics
# equal). Writes the tables to OUT_DIR/parity.md; exits 1 on a mismatch.
#
#   scripts/channelattribution-parity.sh [FOGG] [OUT_DIR] [SIMULATIONS]
#
# Needs Python 3 with venv (python3-venv installed from Debian when
# missing) and PyPI. SIMULATIONS is the package's nsim_start (1e7).
set -euo pipefail
cd "$(dirname "$0")/.."
fogg=${1:-./target/debug/fogg}
out=${2:-reports/ci/parity}
simulations=${3:-1e7}
mkdir -p "$out"

source scripts/lib.sh
need python3 python3
# Debian's python3 makes venvs only with python3-venv (ensurepip).
python3 -c 'import ensurepip' 2> /dev/null || apt_install python3-venv

venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
# The package is a source distribution (pip builds its C++ core) and
# imports matplotlib.
"$venv/bin/pip" install -q --disable-pip-version-check channelattribution==2.2.5 pandas matplotlib
"$venv/bin/python" tools/channelattribution-parity.py "$fogg" --simulations "$simulations" \
    | tee "$out/parity.md"
