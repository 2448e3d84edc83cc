# shellcheck shell=bash
# Shared by the benchmarks: logging, a fresh ext4 loop file system, cold caches, and a private
# containerd (its own root, state and socket; never the host's). Expects $work set by the caller.

log() { printf '[bench] %s\n' "$*" >&2; }

# The Debian packages ../shared/bench/make-images.sh needs to build and serve the images.
IMAGE_PACKAGES=(umoci skopeo docker-registry debootstrap busybox-static curl python3 tar)
# need_packages PKG...: install the Debian packages a benchmark runs (its comparators included) that
# are missing, as scripts/setup.sh does for the product, so a benchmark works on a fresh host.
need_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }

mount_scratch() { # size dir: a fresh ext4 on a loop device at dir
  truncate -s "$1" "$work/fs.img"
  mkfs.ext4 -q -F "$work/fs.img"
  mkdir -p "$2"
  mount -o loop "$work/fs.img" "$2"
}

ctr_pid=""
start_containerd() { # root
  local state=$work/containerd-state
  rm -rf "$state"
  mkdir -p "$1" "$state"
  cat >"$work/containerd.toml" <<TOML
version = 2
root = "$1"
state = "$state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$work/containerd.sock"
TOML
  containerd --config "$work/containerd.toml" >"$work/containerd.log" 2>&1 &
  ctr_pid=$!
  for _ in $(seq 100); do ctr --address "$work/containerd.sock" version >/dev/null 2>&1 && return; sleep 0.1; done
  echo "containerd did not start; see $work/containerd.log" >&2
  exit 1
}
stop_containerd() {
  [ -n "$ctr_pid" ] || return 0
  kill "$ctr_pid" 2>/dev/null && wait "$ctr_pid" 2>/dev/null || true
  ctr_pid=""
}
CTR() { ctr --address "$work/containerd.sock" "$@"; }

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Proportional set size of processes, in KiB (shared pages split among their users: fair sums).
pss_kib() { local total=0 p v; for p in "$@"; do v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0); total=$((total + ${v:-0})); done; echo "$total"; }

# ensure_images [NAME…]: build and push make-images.sh's images unless the registry has all of the
# named ones already (default: all four; make-images.sh shares one work directory between runs:
# two at once can break each other).
ensure_images() {
  local img imgs=("$@")
  [ ${#imgs[@]} -gt 0 ] || imgs=(tiny debian multi wide)
  for img in "${imgs[@]}"; do
    curl -fsS -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
      "http://$REGISTRY/v2/bench/$img/manifests/latest" 2>/dev/null || {
      log "making sure the benchmark images are in $REGISTRY"
      bash "${repo:?}/../shared/bench/make-images.sh" >/dev/null
      return
    }
  done
}

# push_zstd_image: bench/zstd, the layers of bench/multi recompressed with zstd (level 3, one frame
# per layer) by skopeo from make-images.sh's cached OCI layout; the config, and so the diffIDs,
# stay those of bench/multi. Pushed only when the registry's bench/zstd is missing or has another config.
push_zstd_image() {
  local layout=${BENCH_DIR:-/tmp/berth-bench}/cache/oci accept='application/vnd.oci.image.manifest.v1+json'
  local want have
  want=$(skopeo inspect --raw "oci:$layout:multi" | python3 -c 'import json, sys; print(json.load(sys.stdin)["config"]["digest"])')
  have=$(curl -fsS -H "Accept: $accept" "http://$REGISTRY/v2/bench/zstd/manifests/latest" 2>/dev/null |
    python3 -c 'import json, sys; m = json.load(sys.stdin); print(m["config"]["digest"] if all(l["mediaType"].endswith("+zstd") for l in m["layers"]) else "")' 2>/dev/null || true)
  [ "$want" = "$have" ] && return 0
  log "pushing $REGISTRY/bench/zstd:latest (bench/multi recompressed with zstd)"
  # Through a layout of its own: copied straight to the registry, skopeo would reuse the gzip blobs
  # the registry already holds instead of recompressing them.
  rm -rf "$layout-zstd"
  skopeo copy --quiet --dest-compress-format zstd --dest-compress-level 3 "oci:$layout:multi" "oci:$layout-zstd:zstd"
  skopeo copy --quiet --dest-tls-verify=false "oci:$layout-zstd:zstd" "docker://$REGISTRY/bench/zstd:latest"
}

# berth keeps a network's bridge and rules after its last pod, as podman does. A benchmark whose pods use
# the default network notes whether its bridge was there before the run, and at exit takes the network
# away only if the run made it, so the host is left as found.
default_bridge_was_there=no
ip link show berth0 >/dev/null 2>&1 && default_bridge_was_there=yes
remove_default_network_if_made() { # berth command words...
  [ "$default_bridge_was_there" = no ] && "$@" network rm berth >/dev/null 2>&1
  return 0
}
