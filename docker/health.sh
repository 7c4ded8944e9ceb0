#!/bin/sh
# A lab container's healthcheck: its control socket and the service's own ports are listening
# (ss(8): a few ms; a Node check would cost a Node start each time), or, with `run`, another
# check command (bridge-rules).
#
# Paced like Docker 25's start_interval, which Docker 20.10 lacks: every probe is a runc exec,
# ~0.1 s of CPU, so ten containers probed each second cost half of a 2-core machine while the lab
# starts. Until the check has passed once since the container started, a probe retries it every
# 0.1 s for up to 2 s, so a dependant starts as soon as its dependency is ready, not an interval
# later; after that, a probe waits LAB_HEALTH_PACE seconds (4) before it checks.
# Usage: health.sh [tcp:PORT|udp:PORT]... | health.sh run COMMAND [ARG]...
set -eu

sock="${LAB_STATE_DIR:-/lab/state}/hosts/${LAB_HOST:-}/control.sock"

listening() {
  : "${LAB_HOST:?names the lab host}"
  # by state, not -l: `ss -l` also asks for closed TCP sockets, so the kernel walks every TCP
  # socket of the machine (~15 ms here); the listeners alone cost ~2 ms
  case "$(ss -Hxl)" in *" $sock "*) ;; *) echo "no control socket $sock"; return 1 ;; esac
  tcp="" udp=""
  case "$*" in *tcp:*) tcp="$(ss -Htn state listening) " ;; esac
  case "$*" in *udp:*) udp="$(ss -Hun state unconnected) " ;; esac
  for want in "$@"; do
    case "$want" in
      tcp:[0-9]*) case "$tcp" in *":${want#tcp:} "*) ;; *) echo "nothing listens on $want"; return 1 ;; esac ;;
      udp:[0-9]*) case "$udp" in *":${want#udp:} "*) ;; *) echo "nothing listens on $want"; return 1 ;; esac ;;
      *) echo "health.sh: $want is not tcp:PORT or udp:PORT"; exit 2 ;;
    esac
  done
}

check() {
  if [ "${1:-}" = "run" ]; then shift; "$@"; else listening "$@"; fi
}

# pid 1 starts again with the container, so a restarted host is probed quickly again
passed="/tmp/lab-health-passed.$(cut -d' ' -f22 /proc/1/stat)"
if [ -e "$passed" ]; then
  sleep "${LAB_HEALTH_PACE:-4}"
  check "$@"
  exit
fi
# while the service loads its code its control socket does not exist yet: a test(1), not ss
tries=20 why="no control socket $sock"
until { [ "${1:-}" = "run" ] || [ -S "$sock" ]; } && why=$(check "$@" 2>&1); do
  tries=$((tries - 1))
  [ "$tries" -gt 0 ] || { echo "$why"; exit 1; }
  sleep 0.1
done
: >"$passed"
