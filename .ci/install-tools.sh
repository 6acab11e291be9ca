#!/usr/bin/env bash
# Installs, from Debian, what a fresh machine lacks for the real-client tests and benchmarks:
# Chromium (Playwright), aria2 and curl (download clients), unzip (archive checks), fincore (page-cache checks).
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v aria2c >/dev/null 2>&1 || missing+=(aria2)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v fincore >/dev/null 2>&1 || missing+=(util-linux-extra)
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "Installing ${missing[*]} (needed by the browser and download-client tests)..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
