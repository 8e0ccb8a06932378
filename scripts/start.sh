#!/usr/bin/env bash
# Installs the dependencies, builds Satellite and runs satellited in the
# foreground on its loopback defaults: push 127.0.0.1:8080, REST admin API
# 127.0.0.1:8081, SNMP udp:127.0.0.1:1161. Extra arguments go to satellited.
# Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ "${SATELLITE_SKIP_DEPS:-0}" != 1 ]; then
    scripts/install-deps.sh
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"

state="$root/run"
mkdir -p "$state"
rm -f "$state/ready.json"
build/agent/satellited --set admin.token_file="$state/satellited.token" \
    --ready-file "$state/ready.json" "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' INT TERM

for _ in $(seq 100); do
    [ -s "$state/ready.json" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"
        exit $?
    fi
    sleep 0.1
done

field() {
    sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$state/ready.json"
}
push=$(field push)
admin=$(field admin)
snmp=$(field snmp)
cat <<INFO

satellited is running (pid $pid). Ctrl-C stops it.
  push endpoint  http://$push/<topic>   (any path is a broadcaster)
      curl -N 'http://$push/chat?X-Atmosphere-Transport=sse&X-Atmosphere-tracking-id=0'
  REST admin API http://$admin/api/v1   (write token in $state/satellited.token)
      # broadcast to /chat once a client subscribed to it (404 before that)
      curl -X POST -H "Authorization: Bearer \$(cat $state/satellited.token)" \\
           -H 'Content-Type: application/json' -d '{"message":"hello"}' \\
           http://$admin/api/v1/broadcasters/%2Fchat/broadcast
  SNMP agent     ${snmp:-off}
      snmpwalk -v2c -c public ${snmp#udp:} 1.3.6.1.3.9999
  console        build/tui/satconsole --url http://$admin --token-file $state/satellited.token

INFO
wait "$pid"
