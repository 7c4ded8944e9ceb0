#!/bin/sh
# A lab container's healthcheck: its control socket and the service's own port are listening.
# ss(8) costs a few ms; a Node check every second in ten containers would cost a core here.
# Usage: health.sh [tcp:PORT|udp:PORT]...
set -eu
sock="${LAB_STATE_DIR:-/lab/state}/hosts/${LAB_HOST:?}/control.sock"
ss -Hxl | grep -qF "$sock" || { echo "no control socket $sock"; exit 1; }
for want in "$@"; do
  proto="${want%%:*}" port="${want#*:}"
  case "$proto" in
    tcp) ss -Hltn "sport = :$port" | grep -q . ;;
    udp) ss -Hlun "sport = :$port" | grep -q . ;;
    *) echo "health.sh: $want is not tcp:PORT or udp:PORT"; exit 2 ;;
  esac || { echo "nothing listens on $want"; exit 1; }
done
