#!/usr/bin/env bash
# Installs everything Satellite needs on Debian 12: the C toolchain and
# libraries from Debian's packages, and the test clients from npm (pinned by
# package-lock.json). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
fi

packages=(
    build-essential cmake pkg-config clang libclang-rt-14-dev
    libuv1-dev libhttp-parser-dev libwslay-dev
    libmicrohttpd-dev libjansson-dev
    libsnmp-dev snmp snmpd snmptrapd smitools
    libncurses-dev libcurl4-openssl-dev
    libcmocka-dev
    tmux curl ca-certificates chromium
)
# Node.js 20 or later runs the atmosphere.js clients; Debian's nodejs is
# installed only when no node is on the PATH.
if ! command -v node >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

"${sudo_cmd[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends \
    "${packages[@]}"

npm ci --no-audit --no-fund
