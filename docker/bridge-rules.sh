#!/bin/sh
# DOCKER-USER rules that let the lab route across its internal networks (docker issue, verified on
# Docker 20.10): with br_netfilter on, Docker's isolation rules drop bridged frames whose source or
# destination is outside the bridge's subnet, so each lab bridge accepts its own switched frames.
# Nothing else on the machine's firewall changes. Run by the bridge-rules service and by `lab up`.
# Usage: bridge-rules.sh add|remove|check|run BRIDGE...   (run: add, wait for SIGTERM, remove)
set -eu
action="${1:?usage: bridge-rules.sh add|remove|check|run BRIDGE...}"
shift

# the machine's firewall may be nft or legacy: use the backend where Docker made DOCKER-USER
tables() {
  for t in iptables-nft iptables-legacy ip6tables-nft ip6tables-legacy iptables ip6tables; do
    command -v "$t" >/dev/null 2>&1 && "$t" -w -S DOCKER-USER >/dev/null 2>&1 && echo "$t"
  done | awk '{ fam = ($0 ~ /^ip6/) ? 6 : 4; if (!seen[fam]++) print }'
}
rule() { echo "-i $1 -o $1 -m comment --comment enterlab-bridge -j ACCEPT"; }

add() {
  for t in $(tables); do
    for b in "$@"; do
      # shellcheck disable=SC2046
      "$t" -w -C DOCKER-USER $(rule "$b") 2>/dev/null || "$t" -w -I DOCKER-USER $(rule "$b")
    done
  done
}
remove() {
  for t in $(tables); do
    for b in "$@"; do
      # shellcheck disable=SC2046
      while "$t" -w -C DOCKER-USER $(rule "$b") 2>/dev/null; do "$t" -w -D DOCKER-USER $(rule "$b"); done
    done
  done
}
check() {
  found=$(tables)
  [ -n "$found" ] || { echo "bridge-rules: no DOCKER-USER chain (is dockerd running?)" >&2; return 1; }
  for t in $found; do
    # shellcheck disable=SC2046
    for b in "$@"; do "$t" -w -C DOCKER-USER $(rule "$b") 2>/dev/null || return 1; done
  done
}

case "$action" in
  add) add "$@" ;;
  remove) remove "$@" ;;
  check) check "$@" ;;
  run)
    [ -n "$(tables)" ] || { echo "bridge-rules: no DOCKER-USER chain: start dockerd with iptables enabled" >&2; exit 1; }
    add "$@"
    echo "bridge-rules: accepting frames switched within $* (DOCKER-USER: $(tables | tr '\n' ' '))"
    trap 'remove "$@"; echo "bridge-rules: removed"; exit 0' TERM INT
    while :; do sleep 3600 & wait $! || true; done
    ;;
  *) echo "bridge-rules: unknown action $action (add|remove|check|run)" >&2; exit 2 ;;
esac
