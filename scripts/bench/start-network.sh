# Sourced by scripts/bench/start for --network bridge (its variables, helpers and cleanup apply).
# berth: container run --rm --network bridge -p, to its first line on stdout (as ctr run's), on its
# own and then (a second round beside ctr again) with a `berth daemon` serving the same root, and
# there also `--network none` (what the bridge adds to a daemon-served run, its spare places in use:
# network/spare-pool.ts); and
# create (the bridge, an address and a published port are set up here) + start, to the first line
# of output, with --network bridge -p and with --network none; then `container rm` of each.
# ctr: `ctr run --rm --cni` with a conflist of the same plugins (bridge, host-local, portmap).
bench_net=benchnet
bench_bridge=bbench$((RANDOM % 1000))
bench_subnet=10.213.$((RANDOM % 250)).0/24
cni_made=()
network_cleanup=network_cleanup_fn
daemon_pid=
early_cleanup=stop_daemon
stop_daemon() {
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null; fi
  daemon_pid=
}
network_cleanup_fn() {
  # cleanup() removed berth's containers and stopped containerd; what is left is ours to remove.
  for f in "${cni_made[@]}"; do rm -rf "$f"; done
  # ctr run --rm --cni leaves its bridge plugin's masquerade rules behind (it calls no DEL).
  iptables-save -t nat | grep -- '^-A POSTROUTING .*name: \\"bench-ctr\\"' | while read -r line; do
    eval "iptables -t nat ${line/#-A/-D}" 2>/dev/null
    iptables -t nat -F "${line##*-j }" 2>/dev/null && iptables -t nat -X "${line##*-j }" 2>/dev/null
  done
  # berth keeps its bridge and rules after the last container; network rm takes them away.
  "${BN[@]}" network rm "$bench_net" >/dev/null 2>&1 || true
  ip link del "$bench_bridge" 2>/dev/null || true
  # Whatever network rm could not reach (the root unmounted above): the rules by their comment.
  iptables-save | awk -v c="berth network $bench_net\"" '/^\*/ { t = substr($0, 2) } index($0, c) && /^-A / { print t " " $0 }' |
    while read -r table line; do eval "iptables -t $table ${line/#-A/-D}" 2>/dev/null; done
  iptables -t nat -X "BERTH-MARK-$bench_bridge" 2>/dev/null || true
  ip link del cni-bench0 2>/dev/null || true
  rm -f "/run/berth-networks/locks/bridge-$(printf %s "$bench_bridge" | od -An -tx1 | tr -d ' \n').lock"
}
printf 'network: {name: %s, bridge: %s, subnet: %s}\n' "$bench_net" "$bench_bridge" "$bench_subnet" >"$work/config.yaml"
B+=(--config "$work/config.yaml") # cleanup() uses B too: its removals release their addresses
BN=("${B[@]}")

log "preparing: berth pull, a private containerd with the image and a CNI conflist"
"${BN[@]}" image pull "$image" >/dev/null
# Made only where missing, and removed after (the last made first: children before parents).
[ -e /etc/cni ] || cni_made=(/etc/cni "${cni_made[@]}")
[ -e /etc/cni/net.d ] || cni_made=(/etc/cni/net.d "${cni_made[@]}")
mkdir -p /etc/cni/net.d
[ -e /opt/cni ] || cni_made=(/opt/cni "${cni_made[@]}")
if [ ! -e /opt/cni/bin ]; then
  mkdir -p /opt/cni && ln -s /usr/lib/cni /opt/cni/bin && cni_made=(/opt/cni/bin "${cni_made[@]}")
fi
conflist=/etc/cni/net.d/10-berth-bench.conflist
cat >"$conflist" <<JSON
{"cniVersion": "1.0.0", "name": "bench-ctr", "plugins": [
  {"type": "bridge", "bridge": "cni-bench0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.214.$((RANDOM % 250)).0/24"}]],
            "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$work/ctr-ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true}
]}
JSON
cni_made=("$conflist" "${cni_made[@]}")
start_containerd "$mnt/containerd"
CTR images pull --plain-http "$image" >/dev/null

ms_now() { date +%s%N; }
results=$work/results.tsv
: >"$results"
port=$((20000 + RANDOM % 20000))
# One command each from nothing to the first line, as ctr run is (create, start, follow, remove):
# berth's container run as KIND, then ctr's as CTR_KIND. Usage: run_beside_ctr KIND CTR_KIND NAME
run_beside_ctr() {
  local t
  t=$("${TIMER[@]}" -- "${BN[@]}" container run --rm --network bridge -p "$port:80" "$image" "$3" -- echo ready)
  printf '%s\t%s\n' "$1" "$t" >>"$results"
  sleep "${PAUSE:-0}"
  t=$("${TIMER[@]}" -- ctr --address "$work/containerd.sock" run --rm --cni "$image" "c$3" echo ready)
  printf '%s\t%s\n' "$2" "$t" >>"$results"
}
for ((r = 0; r < runs; r++)); do
  for mode in none bridge; do
    extra=()
    [ "$mode" = bridge ] && extra=(--network bridge -p "$port:80")
    [ "$mode" = none ] && extra=(--network none)
    t0=$(ms_now)
    "${BN[@]}" container create "$image" "n$mode$r" "${extra[@]}" -- echo ready >/dev/null
    t1=$(ms_now)
    id=$("${BN[@]}" container ls -o json | node -e 'const c = JSON.parse(require("fs").readFileSync(0, "utf8")).find((x) => x.name === process.argv[1]); console.log(c.id)' "n$mode$r")
    t=$("${TIMER[@]}" --file "$mnt/berth/containers/$id/container.log" -- "${BN[@]}" container start "n$mode$r")
    printf 'berth-%s\t%s\n' "$mode" "$(node -p "($t1 - $t0) / 1e6 + $t")" >>"$results"
    t0=$(ms_now)
    "${BN[@]}" container rm --force "n$mode$r" >/dev/null
    t1=$(ms_now)
    printf 'rm-%s\t%s\n' "$mode" "$(node -p "($t1 - $t0) / 1e6")" >>"$results"
  done
  run_beside_ctr berth-run ctr-cni "r$r"
  log "run $((r + 1))/$runs done"
done

# The same command with a daemon serving this root and config: it creates and starts (as containerd
# does for ctr); beside ctr again, in the same minutes.
mkdir -p "$work/manifests"
"${BN[@]}" daemon --manifests "$work/manifests" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for ((i = 0; i < 100; i++)); do grep -q serving "$work/daemon.log" && break; sleep 0.1; done
grep -q serving "$work/daemon.log" || { cat "$work/daemon.log" >&2; exit 1; }
# A pause before each command (theirs too): the daemon makes its next spare place 400 ms after a
# container took one, and that is not to land in the next command measured, berth's or ctr's.
for ((r = 0; r < runs; r++)); do
  sleep 0.4
  t=$("${TIMER[@]}" -- "${BN[@]}" container run --rm --network none "$image" "dn$r" -- echo ready)
  printf 'berth-daemon-none\t%s\n' "$t" >>"$results"
  sleep 0.4
  PAUSE=0.4 run_beside_ctr berth-daemon ctr-cni-daemon-round "d$r"
  log "daemon run $((r + 1))/$runs done"
done
stop_daemon

node - "$results" "$output" <<'NODE'
const [file, output] = process.argv.slice(2);
const rows = require('node:fs').readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('\t'));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const kinds = ['berth-none', 'berth-bridge', 'berth-run', 'berth-daemon', 'berth-daemon-none', 'ctr-cni', 'ctr-cni-daemon-round', 'rm-none', 'rm-bridge'];
const ms = Object.fromEntries(kinds.map((k) => [k, median(rows.filter((r) => r[0] === k).map((r) => Number(r[1])))]));
const result = {
  medianMs: ms,
  bridgeAddsMs: ms['berth-bridge'] - ms['berth-none'],
  berthVsCtrCni: ms['berth-run'] / ms['ctr-cni'],
  daemonVsCtrCni: ms['berth-daemon'] / ms['ctr-cni-daemon-round'],
  daemonBridgeAddsMs: ms['berth-daemon'] - ms['berth-daemon-none'],
  createStartVsCtrCni: ms['berth-bridge'] / ms['ctr-cni'],
  removalAddsMs: ms['rm-bridge'] - ms['rm-none'],
  runs: rows.filter((r) => r[0] === 'ctr-cni').length,
};
if (output === 'json') { console.log(JSON.stringify(result, null, 2)); process.exit(0); }
console.log(`to first output, and removal; median of ${result.runs} (ms)\n`);
console.log('| berth container run --rm --network bridge -p | ctr run --rm --cni | berth / ctr |');
console.log('|---|---|---|');
const f = (x) => x.toFixed(0);
console.log(`| alone: ${f(ms['berth-run'])} | ${f(ms['ctr-cni'])} | ${result.berthVsCtrCni.toFixed(2)}× |`);
console.log(`| a daemon serving its root: ${f(ms['berth-daemon'])} | ${f(ms['ctr-cni-daemon-round'])} | ${result.daemonVsCtrCni.toFixed(2)}× |\n`);
console.log(`daemon-served \`container run --rm\`: --network none ${f(ms['berth-daemon-none'])}, --network bridge -p ${f(ms['berth-daemon'])}: the bridge adds ${f(result.daemonBridgeAddsMs)}\n`);
console.log('| create + start --network none | create + start --network bridge -p | bridge adds | create + start / ctr | rm none | rm bridge | rm adds |');
console.log('|---|---|---|---|---|---|---|');
console.log(`| ${f(ms['berth-none'])} | ${f(ms['berth-bridge'])} | ${f(result.bridgeAddsMs)} | ${result.createStartVsCtrCni.toFixed(2)}× | ${f(ms['rm-none'])} | ${f(ms['rm-bridge'])} | ${f(result.removalAddsMs)} |`);
NODE
