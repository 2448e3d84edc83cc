#!/usr/bin/env bash
# Set up a Debian 12 host (as root) to build, test and run berth. Idempotent: every step checks
# first, so a second run takes seconds and changes nothing.
#   - Debian packages: runc, conmon, CNI plugins and iptables (pod networking), docker-registry, skopeo, umoci, busybox-static, …
#   - Node 24 under /opt/berth/node when the host's Node is older (from the npm registry's `node`
#     package, which ships the official binary)
#   - npm dependencies, the TypeScript build (when the sources are newer than the bundle), and a
#     `berth` launcher in /usr/local/bin
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[setup] %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { log "run as root (apt-get, /opt, /usr/local/bin)"; exit 1; }

PACKAGES=(runc conmon containernetworking-plugins iptables docker-registry skopeo umoci busybox-static
  curl pigz ca-certificates iproute2 util-linux e2fsprogs xfsprogs btrfs-progs attr python3-minimal golang-github-containers-common
  systemd-container catatonit libcap2-bin strace libarchive-tools zstd openssl)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# shellcheck source=scripts/env.sh
. "$repo/scripts/env.sh"
node_major() { command -v node >/dev/null && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 24 ]; then
  if ! command -v npm >/dev/null; then
    log "bootstrapping npm from Debian to fetch Node 24"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null
  fi
  log "installing Node 24 into $BERTH_NODE_PREFIX"
  npm install -g --prefix "$BERTH_NODE_PREFIX" --no-audit --no-fund node@24 >/dev/null 2>&1
  . "$repo/scripts/env.sh"
  [ "$(node_major)" -ge 24 ] || { log "Node 24 install failed"; exit 1; }
fi

cd "$repo"
stamp=node_modules/.berth-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing npm dependencies"
  # `npm install` rather than `npm ci`: it honours the lock file's versions, and it also works
  # where an npmrc (omit-lockfile-registry-resolved) makes npm ci misread optional platform packages.
  npm install --no-audit --no-fund >/tmp/berth-npm-install.log 2>&1 || {
    tail -20 /tmp/berth-npm-install.log >&2
    exit 1
  }
  # The lock as npm left it (an npmrc such as this host's makes npm add entries to it), so the next
  # run compares the same bytes and installs nothing.
  sha256sum package-lock.json | cut -d' ' -f1 >"$stamp"
fi

# Built already when the bundle is newer than everything it is made from: a second run changes nothing.
if [ ! -f dist/cli/berth.mjs ] ||
  [ -n "$(find src schemas scripts/bundle.mjs package.json package-lock.json tsconfig.json -newer dist/cli/berth.mjs -print -quit)" ]; then
  log "building"
  npm run -s build
fi

# BERTH_LAUNCHER: where the launcher goes (a test puts it in a temp directory).
launcher=${BERTH_LAUNCHER:-/usr/local/bin/berth}
body="#!/bin/sh
exec $(command -v node) $repo/dist/cli/berth.mjs \"\$@\""
if [ ! -f "$launcher" ] || [ "$(cat "$launcher")" != "$body" ]; then
  printf '%s\n' "$body" >"$launcher"
  chmod 0755 "$launcher"
  log "installed $launcher"
fi
log "ready: node $(node --version), $(runc --version | head -1), conmon $(conmon --version | head -1 | awk '{print $3}')"
