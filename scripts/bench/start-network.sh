# Sourced by scripts/bench/start for --network bridge (its variables, helpers and cleanup apply).
# berth: container run --rm --network bridge -p, to its first line on stdout (as ctr run's); and
# create (the bridge, an address and a published port are set up here) + start, to the first line
# of output, with --network bridge -p and with --network none; then `container rm` of each.
# ctr: `ctr run --rm --cni` with a conflist of the same plugins (bridge, host-local, portmap).
bench_net=benchnet
bench_bridge=bbench$((RANDOM % 1000))
bench_subnet=10.213.$((RANDOM % 250)).0/24
cni_made=()
network_cleanup=network_cleanup_fn
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
  # One command from nothing to the first line, as ctr run is: create, start, follow, remove.
  t=$("${TIMER[@]}" -- "${BN[@]}" container run --rm --network bridge -p "$port:80" "$image" "r$r" -- echo ready)
  printf 'berth-run\t%s\n' "$t" >>"$results"
  t=$("${TIMER[@]}" -- ctr --address "$work/containerd.sock" run --rm --cni "$image" "c$r" echo ready)
  printf 'ctr-cni\t%s\n' "$t" >>"$results"
  log "run $((r + 1))/$runs done"
done

node - "$results" "$output" <<'NODE'
const [file, output] = process.argv.slice(2);
const rows = require('node:fs').readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('\t'));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const kinds = ['berth-none', 'berth-bridge', 'berth-run', 'ctr-cni', 'rm-none', 'rm-bridge'];
const ms = Object.fromEntries(kinds.map((k) => [k, median(rows.filter((r) => r[0] === k).map((r) => Number(r[1])))]));
const result = {
  medianMs: ms,
  bridgeAddsMs: ms['berth-bridge'] - ms['berth-none'],
  berthVsCtrCni: ms['berth-run'] / ms['ctr-cni'],
  createStartVsCtrCni: ms['berth-bridge'] / ms['ctr-cni'],
  removalAddsMs: ms['rm-bridge'] - ms['rm-none'],
  runs: rows.filter((r) => r[0] === 'ctr-cni').length,
};
if (output === 'json') { console.log(JSON.stringify(result, null, 2)); process.exit(0); }
console.log(`to first output, and removal; median of ${result.runs} (ms)\n`);
console.log('| berth container run --rm --network bridge -p | ctr run --rm --cni | berth / ctr |');
console.log('|---|---|---|');
const f = (x) => x.toFixed(0);
console.log(`| ${f(ms['berth-run'])} | ${f(ms['ctr-cni'])} | ${result.berthVsCtrCni.toFixed(2)}× |\n`);
console.log('| create + start --network none | create + start --network bridge -p | bridge adds | create + start / ctr | rm none | rm bridge | rm adds |');
console.log('|---|---|---|---|---|---|---|');
console.log(`| ${f(ms['berth-none'])} | ${f(ms['berth-bridge'])} | ${f(result.bridgeAddsMs)} | ${result.createStartVsCtrCni.toFixed(2)}× | ${f(ms['rm-none'])} | ${f(ms['rm-bridge'])} | ${f(result.removalAddsMs)} |`);
NODE
