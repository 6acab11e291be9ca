#!/usr/bin/env bash
# Installs, from Debian, what a fresh machine lacks for the real-client tests and benchmarks:
# Chromium (Playwright), aria2 and curl (download clients), unzip, 7-Zip, bsdtar, a JDK and Python (zip readers),
# fincore (page-cache checks), PostgreSQL's server binaries (the tests start a throw-away cluster of their own with
# initdb and pg_ctl: the package's system service is neither needed nor used), nginx (the cluster test's load balancer
# and the benchmarks' reference server, started by them on their own configuration and loopback port) and wrk (the
# benchmarks' load generator).
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v aria2c >/dev/null 2>&1 || missing+=(aria2)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v 7zz >/dev/null 2>&1 || missing+=(7zip)
command -v bsdtar >/dev/null 2>&1 || missing+=(libarchive-tools)
# "java File.java" compiles the source in memory: that takes a JDK, which javac reveals (a JRE has java alone).
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v fincore >/dev/null 2>&1 || missing+=(util-linux-extra)
# The server's binaries are not on PATH (/usr/lib/postgresql/<version>/bin); runuser (util-linux) runs them as the
# package's postgres user when the tests run as root, which initdb refuses.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "Installing ${missing[*]} (needed by the browser, download-client, zip-reader and PostgreSQL tests)..."
  if [[ " ${missing[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    # No "main" cluster, so no system service starts with the package: the tests make their own cluster.
    # (Kept over the package's own copy of this file by --force-confold.)
    $sudo mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  # No package may start its service (nginx's would take port 80): policy-rc.d refuses every start during the install.
  policy=/usr/sbin/policy-rc.d
  own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    own_policy=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
  if [ -n "$own_policy" ]; then $sudo rm -f "$policy"; fi
fi
