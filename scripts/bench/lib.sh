# shellcheck shell=bash
# Shared by the benchmarks: logging, a fresh ext4 loop file system, cold caches, and a private
# containerd (its own root, state and socket; never the host's). Expects $work set by the caller.

log() { printf '[bench] %s\n' "$*" >&2; }
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
