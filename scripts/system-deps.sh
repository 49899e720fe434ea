#!/usr/bin/env bash
# What the tests need from Debian's packages, installed when missing (idempotent): tshark (every
# capture a test writes is checked by it), iptables, chromium (the report's browser test), and for
# kernel parity the real tools and the headers the optional dependency cap builds against. Run before `npm ci` so that cap's node-gyp
# build finds libpcap; scripts/test.sh runs it too.
set -euo pipefail

if ! command -v tshark >/dev/null 2>&1; then
  echo "tshark not found: installing it from Debian's packages" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  # wireshark-common asks whether non-root users may capture; answer it so the install never waits.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo_cmd[@]}" debconf-set-selections
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq tshark >/dev/null
fi

# iptables 1.8.9 (nf_tables), as the kernel references were taken with: the acceptance test feeds
# podwire's rendered rules to the real iptables-restore inside a netns of its own (skipped without).
if ! command -v iptables-restore >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  echo "iptables-restore not found: installing iptables from Debian's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iptables >/dev/null
fi

# Kernel parity (test/parity) runs the real ping, nc and tcpdump inside network namespaces of its own
# and turns TX checksum offload off with ethtool, as the kernel references were taken (skipped,
# loudly, when not root). parity --replay injects frames with the optional dependency cap, a
# node-gyp addon over libpcap: its headers and a compiler must be there before `npm ci` below
# builds it (without them npm ci still succeeds, cap is left out and the replay tests skip).
if [ "$(id -u)" -eq 0 ]; then
  missing=()
  command -v tcpdump >/dev/null 2>&1 || missing+=(tcpdump)
  command -v ethtool >/dev/null 2>&1 || missing+=(ethtool)
  command -v ping >/dev/null 2>&1 || missing+=(iputils-ping)
  [ -x /usr/bin/python3 ] || missing+=(python3)  # parity runs Debian's /usr/bin/python3 by path
  [ -e /usr/include/pcap/pcap.h ] || missing+=(libpcap-dev)
  { command -v make && command -v g++; } >/dev/null 2>&1 || missing+=(build-essential)
  # netcat-openbsd 1.219: the real nc podwire emulates (listeners in pods, clients in steps).
  command -v nc.openbsd >/dev/null 2>&1 || missing+=(netcat-openbsd)
  # BIND 9.18's dig and nslookup: the real DNS clients of parity's DNS steps (/usr/bin/dig, nslookup).
  { [ -x /usr/bin/dig ] && [ -x /usr/bin/nslookup ]; } || missing+=(bind9-dnsutils)
  # netstat for the steps that run it in a pod's namespace (ss and ip come with iproute2).
  command -v netstat >/dev/null 2>&1 || missing+=(net-tools)
  # Debian's chromium: the report's browser test (test/explain/report) opens report.html in it,
  # headless, through puppeteer-core, which downloads no browser of its own (skipped without).
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "${missing[*]} not found: installing from Debian's packages" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
