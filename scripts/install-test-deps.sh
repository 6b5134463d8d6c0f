#!/usr/bin/env bash
# Installs the real services and clients the integration tests talk to:
# Prometheus and Alertmanager (remote_write, PromQL, webhooks), net-snmp's snmptrap (SNMP traps),
# util-linux's logger (syslog). Idempotent: returns at once when everything is present.
set -euo pipefail

need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v snmptrap >/dev/null 2>&1 || need+=(snmp)
command -v logger >/dev/null 2>&1 || need+=(bsdutils)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-test-deps: all present"
  exit 0
fi

echo "install-test-deps: installing ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps the packages from starting extra services we do not use.
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts the packaged daemons; the tests run their own instances on free ports.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
  fi
done
echo "install-test-deps: done"
