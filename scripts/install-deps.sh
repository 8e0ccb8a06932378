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
    nginx libnginx-mod-nchan
)
# Node.js 20 or later runs the atmosphere.js clients; Debian's nodejs is
# installed only when no node is on the PATH.
if ! command -v node >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

# snmpd and nginx are only started by the tests and the benchmark, on
# loopback ports of their own: keep the packages from starting system
# services while they install.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
    "${sudo_cmd[@]}" chmod 755 "$policy"
    added_policy=1
fi
remove_policy() {
    if [ "$added_policy" = 1 ]; then
        "${sudo_cmd[@]}" rm -f "$policy"
    fi
}
trap remove_policy EXIT

"${sudo_cmd[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends \
    "${packages[@]}"

npm ci --no-audit --no-fund
