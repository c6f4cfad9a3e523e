#!/usr/bin/env bash
# Smoke test of the node-opcua test peer: starts server.js on a free loopback port and runs every
# client.js subcommand against it. Needs `npm ci` in this directory first (exit 77 = skipped
# otherwise). Writes only to a temporary directory (the client PKI included), removed on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if [ ! -d node_modules/node-opcua ]; then
    echo "test_smoke.sh: node_modules missing: run 'npm ci' in $here" >&2
    exit 77
fi

work=$(mktemp -d)
export INTEROP_CLIENT_PKI="$work/pki"
server_pid=""
cleanup() {
    exec 3>&- 2>/dev/null || true
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

failures=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# check DESCRIPTION JSON EXPRESSION: EXPRESSION is JavaScript over the parsed document `d`.
check() {
    local desc=$1 json=$2 expr=$3
    if printf '%s' "$json" | node -e '
        let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
            const lines = s.trim().split("\n"); const d = JSON.parse(lines[lines.length - 1]);
            const all = lines.map((l) => JSON.parse(l));
            process.exit((function () { return eval(process.argv[1]); })() ? 0 : 1);
        });' "$expr"; then
        pass "$desc"
    else
        fail "$desc: $expr  <-  $(printf '%s' "$json" | tail -c 600)"
    fi
}

# client ARGS: run client.js, never fail the script (checks look at the JSON).
client() { node client.js "$@" 2>>"$work/client.err" || true; }
# client_fails ARGS: run client.js expecting exit code 1; its output goes to $out.
client_fails() {
    local rc=0
    out=$(node client.js "$@" 2>>"$work/client.err") || rc=$?
    [ "$rc" = 1 ]
}

# ---- server (stdin from a FIFO we hold open: commands go to fd 3; closing it stops the server)
mkfifo "$work/in"
node server.js --port 0 --path /sim --items 1000 --rate-ms 100 --exit-on-stdin-eof \
    <"$work/in" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
exec 3>"$work/in"
for _ in $(seq 1 240); do
    grep -q '^ready ' "$work/server.out" && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.25
done
if ! grep -q '^ready ' "$work/server.out"; then
    echo "server did not become ready:" >&2
    cat "$work/server.out" "$work/server.err" >&2
    exit 1
fi
port=$(sed -n 's/^ready //p' "$work/server.out")
url=$(sed -n 's/^endpoint //p' "$work/server.out")
[ "$url" = "opc.tcp://127.0.0.1:$port/sim" ] && pass "endpoint $url" || fail "endpoint $url (port $port)"
grep -q '^namespace 1 ' "$work/server.out" && pass "namespace 1" || fail "namespace line: $(grep namespace "$work/server.out")"

# ---- read
out=$(client read "$url" 'ns=1;s=Sim.Counter' 'ns=1;s=Sim.Array' 'ns=1;s=Sim.Item0042' i=2267 i=2259 'ns=1;s=Sim.Nope')
check "read" "$out" 'd.values.length === 6 && d.values[0].dataType === "Int32" && d.values[0].status === "Good"
    && d.values[1].value.length === 10 && d.values[2].value % 10000 === 42 && d.values[3].value === 255
    && d.values[4].value === 0 && d.values[5].status === "BadNodeIdUnknown"'

# ---- write, read back
out=$(client write "$url" 'ns=1;s=Sim.Setpoint' Double 42.5)
check "write Setpoint" "$out" 'd.status === "Good"'
out=$(client read "$url" 'ns=1;s=Sim.Setpoint')
check "read back Setpoint" "$out" 'd.values[0].value === 42.5'
out=$(client write "$url" 'ns=1;s=Sim.Text' String 'hi there')
check "write Text" "$out" 'd.status === "Good"'
out=$(client read "$url" 'ns=1;s=Sim.Text')
check "read back Text" "$out" 'd.values[0].value === "hi there"'
out=$(client write "$url" 'ns=1;s=Sim.Counter' Int32 5)
check "write read-only Counter" "$out" 'd.status === "BadNotWritable"'
out=$(client write "$url" 'ns=1;s=Sim.ForceBad' Boolean true)
check "write ForceBad" "$out" 'd.status === "Good"'
out=$(client read "$url" 'ns=1;s=Sim.Quality')
check "Quality Bad while ForceBad" "$out" 'd.values[0].status === "Bad"'
client write "$url" 'ns=1;s=Sim.ForceBad' Boolean false >/dev/null
out=$(client read "$url" 'ns=1;s=Sim.Quality')
check "Quality Good again" "$out" 'd.values[0].status === "Good"'

# ---- user name login
out=$(client read "$url" i=2259 --user op1 --password secret1)
check "login op1" "$out" 'd.values[0].status === "Good"'
if client_fails read "$url" i=2259 --user op1 --password wrong; then
    check "wrong password refused" "$out" 'typeof d.error === "string"'
else
    fail "wrong password: exit code not 1: $out"
fi

# ---- browse
out=$(client browse "$url" 'ns=1;s=Sim')
check "browse Sim" "$out" 'd.nodes.length === 1009 && d.nodes.some((n) => n.nodeId === "ns=1;s=Sim.Item0999" && n.nodeClass === "Variable")'
out=$(client browse "$url")
check "browse Objects" "$out" 'd.nodes.some((n) => n.nodeId === "ns=1;s=Sim.Counter") && d.nodes.some((n) => n.nodeId === "i=2253")'

# ---- subscribe 1000 items at 100 ms for 3 s
out=$(client subscribe "$url" --items 1000 --prefix 'ns=1;s=Sim.Item' --publish-ms 100 --sampling-ms 100 --seconds 3)
check "subscribe 1000 items" "$out" 'all[0].event === "subscribed" && all[0].failed === 0 && d.event === "summary"
    && d.items_seen === 1000 && d.notifications >= 5000'
echo "     subscribe: $(printf '%s' "$out" | tail -1)"

# ---- latency
out=$(client latency "$url" 'ns=1;s=Sim.Counter' --count 200)
check "latency" "$out" 'd.count === 200 && d.bad_reads === 0 && d.p50_us > 0 && d.p99_us >= d.p50_us'
echo "     latency: $out"

# ---- stdin commands
echo "service_level 50" >&3
echo "bad Sim.Text BadCommunicationError" >&3
echo "state Suspended" >&3
sleep 0.5
out=$(client read "$url" i=2267 'ns=1;s=Sim.Text' i=2259)
check "stdin service_level/bad/state" "$out" 'd.values[0].value === 50 && d.values[1].status === "BadCommunicationError" && d.values[2].value === 3'
echo "good Sim.Text" >&3
echo "state Running" >&3
sleep 0.5
out=$(client read "$url" 'ns=1;s=Sim.Text' i=2259)
check "stdin good/state" "$out" 'd.values[0].status === "Good" && d.values[1].value === 0'
grep -q '^ok service_level 50$' "$work/server.out" && pass "stdin ack" || fail "stdin ack: $(cat "$work/server.out")"

# ---- session
out=$(client session "$url" --seconds 2)
check "session" "$out" 'all.some((e) => e.event === "state" && e.name === "Running") && d.event === "summary" && d.read_errors === 0 && d.reads >= 10'

# ---- errors
if client_fails read "opc.tcp://127.0.0.1:1" i=2259 --timeout-ms 2000; then
    check "closed port -> error" "$out" 'typeof d.error === "string"'
else
    fail "closed port: exit code not 1: $out"
fi

# ---- SIGTERM: clean exit
kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=""
[ "$rc" = 0 ] && pass "server exit 0 on SIGTERM" || fail "server exit code $rc on SIGTERM"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed; server stderr:"
    grep -v 'NODE-OPCUA-W2[67]\|PKCS#1' "$work/server.err" | tail -20 || true
    exit 1
fi
echo "all checks passed"
