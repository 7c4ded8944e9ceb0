#!/usr/bin/env bash
# Debian packages the lab's tests and benchmarks use: real clients and reference servers.
# Idempotent: packages already installed are skipped; needs root (or sudo) for apt-get.
set -euo pipefail

packages=(
  bind9-dnsutils bind9-utils   # dig, named-checkzone
  unbound nsd dnsperf          # reference resolver and nameserver, DNS load generator
  openssl curl wrk             # TLS and HTTP clients, HTTP load generator
  tshark wireshark-common      # tshark, dumpcap, editcap, capinfos
  libpcap-dev                  # the middlebox's packet capture (npm package cap)
  iproute2 iptables            # IPv6 addresses on lo, the happy-eyeballs black hole
  varnish                      # reference cache for bench/proxy.ts
  apache2-utils                # ab: one request per connection, for bench/ca.ts against openssl ocsp
  chromium                     # renders the ladder page in tests
  docker.io docker-compose     # the docker runtime: engine 20.10 and compose v1 (test/docker)
  debootstrap                  # the offline base image (scripts/docker-base.sh)
  testssl.sh                   # audits the proxy's and web2's TLS (test/integration/ca/testssl.test.ts)
  lego                         # a real ACME client against the lab CA (test/integration/ca/acme.test.ts)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} Debian packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo_cmd[@]}" debconf-set-selections
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# the Debian services start themselves on install; the lab runs its own copies on loopback
for svc in unbound nsd varnish; do
  "${sudo_cmd[@]}" systemctl disable --now "$svc" >/dev/null 2>&1 || true
  "${sudo_cmd[@]}" pkill -x "${svc/varnish/varnishd}" >/dev/null 2>&1 || true
done
echo "install-deps: done"
