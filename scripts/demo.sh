#!/usr/bin/env bash
# The main job on examples/, end to end on one host: set up, start a registry on loopback seeded
# with a busybox image built here, then `berth apply examples/manifests` (pointed at that registry)
# and `berth ps`; along the way the image commands and one hand-made container. Everything it
# starts or creates is removed on exit.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/scripts/setup.sh"
# shellcheck source=scripts/env.sh
. "$repo/scripts/env.sh"

work=$(mktemp -d /tmp/berth-demo.XXXXXX)
reg_pid=""
daemon_pid=""
had_bridge=no
ip link show berth0 >/dev/null 2>&1 && had_bridge=yes
cleanup() {
  set +e
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  if [ -d "$work/manifests" ]; then # the manifests go, so apply removes their pods
    rm -rf "$work/manifests" && mkdir "$work/manifests"
    command berth --root "$work/root" --state "$work/state" apply "$work/manifests" >/dev/null 2>&1
  fi
  for c in demo-web; do
    command berth --root "$work/root" --state "$work/state" container rm --force "$c" >/dev/null 2>&1
  done
  # berth keeps a network's bridge and rules after its last pod; the demo takes away the one it made.
  [ "$had_bridge" = no ] && command berth --root "$work/root" --state "$work/state" network rm berth >/dev/null 2>&1
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
registry=127.0.0.1:$port
cat >"$work/registry.yml" <<YML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/registry }, delete: { enabled: true } }
http: { addr: "$registry" }
YML
say "starting docker-registry on $registry"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do curl -fs "http://$registry/v2/" >/dev/null && break; sleep 0.1; done

say "building a busybox image with umoci and pushing it with skopeo"
umoci init --layout "$work/oci" >/dev/null
umoci new --image "$work/oci:busybox" >/dev/null
umoci unpack --image "$work/oci:busybox" "$work/bundle" >/dev/null
rootfs=$work/bundle/rootfs
mkdir -p "$rootfs"/{bin,etc,tmp,root}
install -m 0755 /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
umoci repack --image "$work/oci:busybox" "$work/bundle" >/dev/null
umoci config --image "$work/oci:busybox" --os linux --architecture amd64 --config.cmd /bin/sh >/dev/null
skopeo copy --quiet --dest-tls-verify=false "oci:$work/oci:busybox" "docker://$registry/demo/busybox:latest"
skopeo copy --quiet --dest-tls-verify=false "oci:$work/oci:busybox" "docker://$registry/demo/busybox:1"

berth() { command berth --root "$work/root" --state "$work/state" --config "$repo/examples/config.yaml" "$@"; }
say "berth image pull $registry/demo/busybox:latest"
berth image pull "$registry/demo/busybox:latest"
say "berth image ls"
berth image ls
say "the store is a plain OCI layout: skopeo reads it as-is"
skopeo inspect "oci:$work/root/content:$registry/demo/busybox:latest" | head -6
say "berth image unpack: the flattened root filesystem"
berth image unpack "$registry/demo/busybox:latest" "$work/rootfs"
ls "$work/rootfs" "$work/rootfs/bin" | head -8
say "berth container create + start: a container from it, under conmon and runc"
berth container create --memory 32Mi -v demo-data:/data "$registry/demo/busybox:latest" demo-web -- \
  /bin/sh -c 'echo "hello from $(hostname), uid $(id -u)"; grep CapEff /proc/self/status; echo kept > /data/f; sleep 30'
berth container start demo-web
for _ in $(seq 50); do berth container logs demo-web | grep -q CapEff && break; sleep 0.1; done
berth container ls
say "berth container logs demo-web"
berth container logs demo-web
say "berth container stop + rm (the named volume stays)"
berth container stop --time 1 demo-web
berth container rm demo-web
cat "$work/root/volumes/demo-data/f"

say "berth apply examples/manifests (their registry, 127.0.0.1:5000, pointed at $registry)"
mkdir -p "$work/manifests"
for f in "$repo"/examples/manifests/*.yaml; do sed "s/127.0.0.1:5000/$registry/" "$f" >"$work/manifests/$(basename "$f")"; done
berth validate "$work/manifests"
berth plan "$work/manifests" || true
berth apply "$work/manifests"
say "berth ps"
berth ps
say "berth logs web / prepared / worker"
berth logs web
berth logs prepared
berth logs worker
say "an edit: web's MODE changes, berth plan says so, apply recreates only web"
sed -i 's/value: demo/value: edited/' "$work/manifests/web.yaml"
berth plan "$work/manifests" || true
berth apply "$work/manifests"
berth ps

say "berth daemon: watches the folder, serves the API on $work/state/berth.sock"
command berth --root "$work/root" --state "$work/state" --config "$repo/examples/config.yaml" \
  daemon --manifests "$work/manifests" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$work/state/berth.sock" ] && break; sleep 0.1; done
pod() { # NAME IMAGE: a pod whose one container sleeps
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: main\n      image: %s\n      command: [/bin/sleep, "3600"]\n' "$1" "$2"
}
say "two files dropped in: one pod that runs, one with a typo in its image"
pod hello "$registry/demo/busybox:1" >"$work/manifests/hello.yaml"
pod typo "$registry/demo/busybx:1" >"$work/manifests/typo.yaml"
for _ in $(seq 100); do berth ps | grep -q '^hello .*Running' && berth ps | grep -q '^typo .*ERR_' && break; sleep 0.1; done
berth ps
say "the daemon's log: the typo's pull failed, and backs off (10 s, doubling to 5 min)"
cat "$work/daemon.log"
say "files removed: their pods go; SIGTERM stops the daemon, the rest keeps running"
rm "$work/manifests/hello.yaml" "$work/manifests/typo.yaml"
for _ in $(seq 100); do berth ps | grep -q '^hello ' || break; sleep 0.1; done
kill -TERM "$daemon_pid" && wait "$daemon_pid"
daemon_pid=""
berth ps
