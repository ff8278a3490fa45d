#!/usr/bin/env bash
# Installs the Debian packages that latchkey's tests drive as real peers: nginx and Caddy (edges),
# nginx's Lua module (the generated auth cache's Lua engine), Chromium (browser tests), Hugo (test
# sites), Apache with mod_auth_openidc (an independent OIDC client), wrk (benchmarks), certutil
# (trusting a test CA in Chromium). Idempotent.
set -euo pipefail
packages=(nginx libnginx-mod-http-lua caddy hugo chromium libnss3-tools apache2 libapache2-mod-auth-openidc wrk openssl curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "latchkey tests need these Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages for the tests: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packaged services must not hold the ports or run as daemons; tests start their own.
for s in nginx apache2 caddy; do (service "$s" stop || true) >/dev/null 2>&1; done
