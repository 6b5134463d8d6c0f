#!/usr/bin/env bash
# Installs Debian's Chromium for the console's browser tests (Playwright drives it through
# executable_path; Playwright's own browser downloads are never used). Idempotent: returns at once
# when the browser is present; exits non-zero when it cannot be installed.
set -euo pipefail

BROWSER=/usr/bin/chromium

if [ -x "$BROWSER" ]; then
  echo "install-browser: $BROWSER present"
  exit 0
fi

echo "install-browser: installing chromium"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null

if [ ! -x "$BROWSER" ]; then
  echo "install-browser: $BROWSER still missing after apt-get install" >&2
  exit 1
fi
echo "install-browser: done ($("$BROWSER" --version 2>/dev/null || echo unknown version))"
