#!/usr/bin/env bash
# Installs the host tools the dataplane agent and its end-to-end tests drive.
# Idempotent: installs only what is missing, and refreshes the apt lists only then.
set -euo pipefail

packages=(iproute2 nftables dnsmasq-base iputils-ping curl conntrack udhcpc procps python3 haproxy iptables ipset
  keepalived radvd strongswan-charon strongswan-swanctl libcharon-extra-plugins ndisc6 busybox isc-dhcp-client tcpdump)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "dataplane-deps: all present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# keepalived, radvd and strongSwan ship services; the agent runs its own instances inside the
# namespaces it owns, so no package may start one in the host's root namespace while installing.
policy=/usr/sbin/policy-rc.d
placed=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  placed=1
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [ -n "$placed" ]; then $SUDO rm -f "$policy"; fi
echo "dataplane-deps: installed ${missing[*]}"
