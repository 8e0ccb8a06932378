#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Lints SATELLITE-MIB: smilint at level 6 must report nothing about the
# module, snmptranslate must resolve every name it defines, and the root OID
# compiled into the agent must equal the module's root.
#
# Usage: mib-lint.sh MIB_DIR [AGENT_HEADER]
# The SMIv2 base modules (SNMPv2-SMI, -TC, -CONF) come from the npm package
# net-snmp, because Debian's free packages do not ship them. Set
# SAT_BASE_MIBS to their directory, or install the package under the
# repository root (node_modules/net-snmp/lib/mibs). Exits 77 (skip) when
# they are missing.
set -eu

mib_dir=$(cd "${1:?usage: mib-lint.sh MIB_DIR [AGENT_HEADER]}" && pwd)
header=${2:-}
mib="$mib_dir/SATELLITE-MIB.txt"

find_base_mibs() {
    if [ -n "${SAT_BASE_MIBS:-}" ]; then
        echo "$SAT_BASE_MIBS"
        return
    fi
    for dir in "$mib_dir/../node_modules/net-snmp/lib/mibs" \
        "$mib_dir/../../node_modules/net-snmp/lib/mibs"; do
        if [ -f "$dir/SNMPv2-SMI.mib" ]; then
            (cd "$dir" && pwd)
            return
        fi
    done
}

base=$(find_base_mibs)
if [ -z "$base" ] || [ ! -d "$base" ]; then
    echo "SKIP: SMIv2 base modules not found; set SAT_BASE_MIBS or run npm install net-snmp" >&2
    exit 77
fi

# net-snmp tools read /etc/snmp and write under /var/lib/snmp unless told
# otherwise; keep both in a private directory.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SNMPCONFPATH="$work" SNMP_PERSISTENT_DIR="$work" MIBS="" MIBDIRS=""

status=0

# 1. smilint: every message that names our file fails the check. Messages
#    about the base modules are theirs, not ours.
SMIPATH="$base:$mib_dir" smilint -l 6 "$mib" >"$work/smilint.out" 2>&1 || true
if grep -q 'SATELLITE-MIB' "$work/smilint.out"; then
    echo "FAIL: smilint -l 6 reports problems in SATELLITE-MIB:" >&2
    grep 'SATELLITE-MIB' "$work/smilint.out" >&2
    status=1
fi

# 2. snmptranslate: every defined name resolves to a numeric OID under the
#    module root.
translate() {
    snmptranslate -M "$base:$mib_dir" -m SATELLITE-MIB "$@"
}
root=$(translate -On SATELLITE-MIB::satelliteMIB 2>>"$work/translate.err") || {
    echo "FAIL: snmptranslate cannot resolve SATELLITE-MIB::satelliteMIB" >&2
    cat "$work/translate.err" >&2
    exit 1
}
names=$(sed -n -E 's/^(sat[A-Za-z0-9]+)[[:space:]]+(OBJECT-TYPE|NOTIFICATION-TYPE|OBJECT-GROUP|NOTIFICATION-GROUP|MODULE-COMPLIANCE|OBJECT IDENTIFIER).*/\1/p' "$mib")
count=0
for name in $names; do
    count=$((count + 1))
    if ! oid=$(translate -On "SATELLITE-MIB::$name" 2>>"$work/translate.err"); then
        echo "FAIL: snmptranslate cannot resolve SATELLITE-MIB::$name" >&2
        status=1
        continue
    fi
    case "$oid" in
    "$root".*) ;;
    *)
        echo "FAIL: $name resolves to $oid, outside the module root $root" >&2
        status=1
        ;;
    esac
done
if [ "$count" -lt 100 ]; then
    echo "FAIL: found only $count definitions in $mib; the name pattern is stale" >&2
    status=1
fi

# 3. The agent's compiled-in root must match the module.
if [ -n "$header" ]; then
    agent_root=$(sed -n -E 's/^#define SNMP_SAT_ROOT_TEXT "([0-9.]+)".*/\1/p' "$header")
    if [ ".$agent_root" != "$root" ]; then
        echo "FAIL: SNMP_SAT_ROOT_TEXT in $header is '$agent_root', the MIB root is $root" >&2
        status=1
    fi
fi

if [ "$status" -eq 0 ]; then
    echo "mib-lint: OK ($count names under $root)"
fi
exit "$status"
