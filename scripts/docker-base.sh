#!/usr/bin/env bash
# A local base image for the lab's Dockerfile when no registry can be reached (docs/ARCHITECTURE.md,
# "Docker without a registry"): Debian bookworm from debootstrap plus this machine's node and npm,
# imported with `docker import`. Installs and starts the engine from Debian if it is missing.
# Prints the image name last (pass it as NODE_IMAGE); skipped when the image exists.
# Usage: scripts/docker-base.sh [--engine-only] [--print-name]   e.g. NODE_IMAGE=$(scripts/docker-base.sh) docker-compose build
set -euo pipefail

engine_only=0 print_name=0
for a in "$@"; do
  case "$a" in
    --engine-only) engine_only=1 ;;
    --print-name) print_name=1 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "docker-base: unknown option $a (try --help)" >&2; exit 2 ;;
  esac
done

say() { echo "docker-base: $*" >&2; }
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

node_bin=$(command -v node) || { say "node is not installed; install Node >= 20 first"; exit 1; }
node_version=$("$node_bin" -p process.versions.node)
image="enterlab-base:bookworm-node${node_version}"
if [ "$print_name" -eq 1 ]; then echo "$image"; exit 0; fi

# the engine: Debian's docker.io (20.10) and compose v1; a newer client on PATH talks API 1.41 to it
if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null || ! command -v debootstrap >/dev/null; then
  say "installing docker.io, docker-compose and debootstrap from Debian"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq docker.io docker-compose debootstrap >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    say "starting docker with systemctl"
    "${sudo_cmd[@]}" systemctl start docker
  else
    say "starting dockerd in the background (log: /var/log/dockerd.log)"
    "${sudo_cmd[@]}" sh -c 'nohup dockerd >>/var/log/dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { say "dockerd did not start: see the end of /var/log/dockerd.log"; exit 1; }
fi
if [ "$engine_only" -eq 1 ]; then say "engine ready ($(docker version -f '{{.Server.Version}}'))"; exit 0; fi

if docker image inspect "$image" >/dev/null 2>&1; then
  say "$image exists (docker rmi $image to rebuild)"
  echo "$image"
  exit 0
fi

# what the services need at run time (routes, packets, the middlebox's iptables) and what the
# Dockerfile's build stage needs for the native addons cap and better-sqlite3
packages=iproute2,iptables,libpcap0.8,ca-certificates,python3,make,g++,libpcap-dev
rootfs=$(mktemp -d /tmp/enterlab-rootfs.XXXXXX)
trap '"${sudo_cmd[@]}" rm -rf "$rootfs"' EXIT
say "debootstrap --variant=minbase bookworm (+ $packages): about 40 s"
t0=$(date +%s)
"${sudo_cmd[@]}" debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" http://deb.debian.org/debian 2>&1 \
  | grep --line-buffered -E '^I: (Retrieving|Validating|Extracting|Installing|Configuring|Base system)' \
  | awk '$2 != "Validating" && ($2 != last || ++n % 25 == 0) { print "docker-base:   " $0 > "/dev/stderr"; fflush("/dev/stderr"); last = $2 }'
[ -x "$rootfs/bin/sh" ] || { say "debootstrap failed (is deb.debian.org reachable?)"; exit 1; }
say "debootstrap done in $(( $(date +%s) - t0 )) s; adding node $node_version and npm"
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
"${sudo_cmd[@]}" sh -e -c '
  r=$1 node=$2 npm=$3
  install -m 0755 "$node" "$r/usr/bin/node"
  mkdir -p "$r/usr/lib/node_modules" "$r/usr/include"
  cp -a "$npm" "$r/usr/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/bin/npx"
  [ -d /usr/include/node ] && cp -a /usr/include/node "$r/usr/include/node"
  # this machine reaches registries through its own CA bundle; the build stage needs the same
  cp /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/ca-certificates.crt"
  chroot "$r" groupadd --gid 1000 node
  chroot "$r" useradd --uid 1000 --gid node --create-home --shell /bin/sh node
  rm -rf "$r/var/cache/apt/archives/"*.deb "$r/var/lib/apt/lists/"*
' _ "$rootfs" "$node_bin" "$npm_dir"
say "docker import as $image"
"${sudo_cmd[@]}" tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' - "$image" >/dev/null
say "built $image in $(( $(date +%s) - t0 )) s; use it with NODE_IMAGE=$image"
echo "$image"
