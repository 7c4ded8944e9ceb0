#!/bin/sh
# The machine's firewall rules the lab needs while it runs, added by the bridge-rules service and by
# `lab up`, removed when the lab stops. Nothing else on the machine's firewall changes.
#  - DOCKER-USER, one per lab bridge (docker issue, verified on Docker 20.10): with br_netfilter on,
#    Docker's isolation rules drop bridged frames whose source or destination is outside the
#    bridge's subnet, so each lab bridge accepts its own switched frames (the middlebox routes them).
#  - INPUT, one per lab bridge: a lab container opens nothing on the machine itself (its bridge
#    gateways 172.28.N.1, docker0's 172.17.0.1, anything bound on 0.0.0.0). Answers to what the
#    machine opened still come in (conntrack ESTABLISHED).
# Usage: bridge-rules.sh add|remove|check|run BRIDGE...
#   check: exit 1 and one line per missing rule; run: add, re-add any that goes missing, remove on SIGTERM
set -eu
action="${1:?usage: bridge-rules.sh add|remove|check|run BRIDGE...}"
shift

# the machine's firewall may be nft or legacy: use the backend where Docker made DOCKER-USER
find_tables() {
  for t in iptables-nft iptables-legacy ip6tables-nft ip6tables-legacy iptables ip6tables; do
    command -v "$t" >/dev/null 2>&1 && "$t" -w -S DOCKER-USER >/dev/null 2>&1 && echo "$t"
  done | awk '{ fam = ($0 ~ /^ip6/) ? 6 : 4; if (!seen[fam]++) print }'
}
# the service finds them once and notes them for its healthcheck (a probe a second must stay cheap)
NOTED=/tmp/enterlab-bridge-rules.tables
tables() {
  if [ -n "${TABLES:-}" ]; then echo "$TABLES"; elif [ -s "$NOTED" ]; then cat "$NOTED"; else find_tables; fi
}
# INPUT in both families, with the IPv4 backend's flavour: Docker may have no IPv6 DOCKER-USER
# (ip6tables off in daemon.json) while its bridges still carry the lab's IPv6
NOTED_TOOLS=/tmp/enterlab-bridge-rules.tools
find_tools() {
  v4=$(tables | grep -v '^ip6' | head -n 1)
  [ -n "$v4" ] || return 0
  v6="ip6${v4#ip}"
  { tables; echo "$v4"; command -v "$v6" >/dev/null 2>&1 && "$v6" -w -S INPUT >/dev/null 2>&1 && echo "$v6"; } | awk '!seen[$0]++'
}
tools() { if [ -s "$NOTED_TOOLS" ]; then cat "$NOTED_TOOLS"; else find_tools; fi; }

# the rules one tool keeps for one bridge, as "CHAIN spec…"
rules() {
  if tables | grep -qx "$1"; then
    echo "DOCKER-USER -i $2 -o $2 -m comment --comment enterlab-bridge -j ACCEPT"
  fi
  echo "INPUT -i $2 -m conntrack ! --ctstate ESTABLISHED,RELATED -m comment --comment enterlab-isolate -j DROP"
}

add() {
  for t in $(tools); do
    for b in "$@"; do
      rules "$t" "$b" | while read -r chain spec; do
        # shellcheck disable=SC2086 # a rule is words for iptables
        "$t" -w -C "$chain" $spec 2>/dev/null || "$t" -w -I "$chain" $spec
      done
    done
  done
}
remove() {
  for t in $(tools); do
    for b in "$@"; do
      rules "$t" "$b" | while read -r chain spec; do
        # shellcheck disable=SC2086
        while "$t" -w -C "$chain" $spec 2>/dev/null; do "$t" -w -D "$chain" $spec; done
      done
    done
  done
}
# one listing per chain and tool (a check a second must stay cheap on a loaded machine), then each
# rule looked up in it by its bridge and comment
check() {
  found=$(tools)
  [ -n "$found" ] || { echo "bridge-rules: no DOCKER-USER chain (is dockerd running?)" >&2; return 1; }
  missing=0
  for t in $found; do
    for chain in DOCKER-USER INPUT; do
      want=$(for b in "$@"; do rules "$t" "$b"; done | grep "^$chain " || true)
      [ -n "$want" ] || continue
      have=$("$t" -w -S "$chain" 2>/dev/null || true)
      for b in "$@"; do
        comment=$(echo "$want" | grep -- "-i $b " | sed -n 's/.*--comment \([^ ]*\).*/\1/p')
        [ -n "$comment" ] || continue
        echo "$have" | grep -- "-i $b " | grep -q -- "--comment $comment" && continue
        echo "missing: $t $chain rule for $b" >&2
        missing=$((missing + 1))
      done
    done
  done
  [ "$missing" -eq 0 ]
}

case "$action" in
  add) add "$@" ;;
  remove) remove "$@" ;;
  check) check "$@" ;;
  run)
    TABLES=$(find_tables)
    [ -n "$TABLES" ] || { echo "bridge-rules: no DOCKER-USER chain: start dockerd with iptables enabled" >&2; exit 1; }
    echo "$TABLES" >"$NOTED"
    find_tools >"$NOTED_TOOLS"
    add "$@"
    echo "bridge-rules: accepting frames switched within $*, refusing new connections to the machine from them ($(tools | tr '\n' ' '))"
    trap 'remove "$@"; echo "bridge-rules: removed"; exit 0' TERM INT
    # a rule deleted by hand (or by a firewall reload) is put back within 2 s, and said so
    while :; do
      sleep 2 &
      wait $! || true
      if ! check "$@" 2>/tmp/enterlab-bridge-rules.missing; then
        add "$@"
        echo "bridge-rules: added again: $(tr '\n' ';' </tmp/enterlab-bridge-rules.missing)"
      fi
    done
    ;;
  *) echo "bridge-rules: unknown action $action (add|remove|check|run)" >&2; exit 2 ;;
esac
