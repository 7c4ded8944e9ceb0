#!/bin/sh
# Every lab container starts here (Dockerfile ENTRYPOINT): add this host's routes from the plan
# (LAB_ROUTES, set in docker-compose.yml), then run the service, as the unprivileged user `node`
# unless LAB_USER=root (the middlebox: raw packets and iptables in its own netns; the browser:
# its own /etc/hosts and /etc/resolv.conf).
#   LAB_ROUTES  "default via 172.28.1.254; -6 default via fd28:1::254"  (needs NET_ADMIN)
# Usage: lab-entrypoint <service> | lab-entrypoint exec <command...>
set -euf

add_route() {
  [ $# -eq 0 ] && return 0
  if [ "$1" = "-6" ]; then shift; ip -6 route replace "$@"; else ip route replace "$@"; fi
}
old_ifs=$IFS
IFS=';'
for route in ${LAB_ROUTES:-}; do
  IFS=$old_ifs
  # shellcheck disable=SC2086 # a route is words for ip(8)
  add_route $route || { echo "lab-entrypoint: ip route replace $route failed (NET_ADMIN?)" >&2; exit 1; }
  IFS=';'
done
IFS=$old_ifs

if [ "${1:-}" = "exec" ]; then shift; exec "$@"; fi
service="${1:?usage: lab-entrypoint <service>}"
host="${LAB_HOST:?LAB_HOST names the lab host}"
# the service's entry, bundled into one file by the build (scripts/post-build.mjs)
main="/lab/dist/services/$service/main.js"
# its events file is on a bind mount (LAB_EVENTS_DIR, docker-compose.yml): its folder is the host's
if [ -n "${LAB_EVENTS_DIR:-}" ]; then
  mkdir -p "$LAB_EVENTS_DIR/$host" && chown node:node "$LAB_EVENTS_DIR/$host"
fi
if [ "${LAB_USER:-node}" = "root" ]; then exec node "$main" --host "$host"; fi
# the host's state dir is node's again (a chmod or a root `docker exec` may have taken it): a restart heals
state="${LAB_STATE_DIR:-/lab/state}/hosts/$host"
mkdir -p "$state" && chown -R node:node "$state" && chmod -R u+rwX "$state"
# setpriv: drop to node with no capability left (the routes are in place)
exec setpriv --reuid=node --regid=node --init-groups --inh-caps=-all --bounding-set=-all \
  node "$main" --host "$host"
