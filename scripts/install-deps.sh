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
  libnss3-tools                # certutil: real browsers' throwaway profiles trust the lab root
  knot-dnsutils                # kdig +tls / +https: DoT and DoH clients for the resolver's tests
  lego                         # a real ACME client against the lab CA (test/integration/ca/acme.test.ts)
)
# --browsers: Firefox ESR too, for `lab browser open firefox` and its test (large, so only on request)
[ "${1:-}" = "--browsers" ] && packages+=(firefox-esr)

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

# Debian starts a service as its package is installed; the lab runs its own copies on loopback.
# policy-rc.d answering 101 ("action forbidden", invoke-rc.d(8)) keeps every package from starting
# anything during this install; it is removed afterwards. Nothing is ever stopped by name: an
# unbound, nsd or varnishd of someone else's (a workstation's own resolver) keeps running.
policy="${POLICY_RC_D:-/usr/sbin/policy-rc.d}"
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# install-deps.sh: no service starts during the lab install\nexit 101\n' |
    "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod 755 "$policy"
  own_policy=1
fi
remove_policy() { if [ "$own_policy" = 1 ]; then "${sudo_cmd[@]}" rm -f "$policy"; fi; }
trap remove_policy EXIT

"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# units this install added are not enabled at boot either; units that were there before are left as
# they were (someone else's choice)
for pkg_unit in unbound:unbound nsd:nsd varnish:varnish; do
  pkg="${pkg_unit%%:*}" unit="${pkg_unit##*:}"
  case " ${missing[*]} " in
    *" $pkg "*) "${sudo_cmd[@]}" systemctl disable "$unit" >/dev/null 2>&1 || true ;;
  esac
done
echo "install-deps: done"
