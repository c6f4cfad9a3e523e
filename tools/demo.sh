#!/usr/bin/env bash
# The README demo: installs what is needed, builds, starts two OPC UA simulation servers
# (`tandem sim -c examples/sim/plant.toml` on 127.0.0.1:4841 and :4842, publishing the same values
# at the same moments) and a Tandem node on examples/demo.toml that pairs them; shows live values,
# the pair, a client watching the pair through the node's face while the primary is killed with
# kill -9, and the failover; then follows the node's event
# log until Ctrl-C (or DEMO_SECONDS, when set or when there is no terminal), and stops everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/tools/install-deps.sh"
cmake -S . -B build/release -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release --target tandem -j "$(nproc)"
tandem="$root/build/release/tools/tandem"
config="$root/examples/demo.toml"

"$tandem" check "$config"
logs="$(mktemp -d)"
sim="$root/examples/sim/plant.toml"
start_server() { # PORT -> pid
  "$tandem" sim -c "$sim" --port "$1" </dev/null >"$logs/sim-$1.log" 2>&1 &
  echo $!
}
primary_pid=$(start_server 4841)
secondary_pid=$(start_server 4842)
"$tandem" node -c "$config" &
node_pid=$!
stop_all() {
  kill -TERM "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
  kill -TERM "$primary_pid" "$secondary_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$logs"
}
trap stop_all EXIT
pair_json() { "$tandem" console -c "$config" --json -e pairs 2>/dev/null; }
wait_pair() { # PATTERN SECONDS
  for _ in $(seq 1 $(( $2 * 10 ))); do
    pair_json | grep -q "$1" && return 0
    sleep 0.1
  done
  echo "demo: timed out waiting for $1" >&2
  return 1
}

# Wait until the node answers on its console.
for _ in $(seq 1 200); do
  "$tandem" console -c "$config" -e status >/dev/null 2>&1 && break
  kill -0 "$node_pid" 2>/dev/null || { echo "demo: the node did not start" >&2; exit 1; }
  sleep 0.05
done

echo
echo "== tandem console -c examples/demo.toml -e status"
"$tandem" console -c "$config" -e status
echo
echo "== waiting for both servers of pair line1 to be connected"
wait_pair '"active":"primary".*"secondary":{"state":"connected"' 60 || true
"$tandem" console -c "$config" -e pairs
echo
items=("ns=1;s=Line1.Temperature" "ns=1;s=Line1.Speed" "ns=1;s=Line1.Heartbeat")
echo "== live values: the same items read from both simulators (same values, same timestamps)"
for port in 4841 4842; do
  echo "-- tandem ua read opc.tcp://127.0.0.1:$port/sim ${items[*]}"
  "$tandem" ua read "opc.tcp://127.0.0.1:$port/sim" "${items[@]}" || true
done
echo
echo "== tandem ua watch opc.tcp://127.0.0.1:4841/sim ns=1;s=Line1.Speed --count 3"
"$tandem" ua watch opc.tcp://127.0.0.1:4841/sim "ns=1;s=Line1.Speed" --count 3 || true
echo
face="opc.tcp://127.0.0.1:4840/line1"
echo "== a client watches the pair through the node's face ($face) while the primary is killed"
"$tandem" ua watch "$face" "ns=1;s=Line1.Speed" "ns=1;s=Line1.Temperature" --interval-ms 500 \
  --seconds 5 >"$logs/watch.txt" 2>&1 &
watch_pid=$!
sleep 2
echo "== kill -9 the primary server"
kill -9 "$primary_pid"
wait_pair '"active":"secondary"' 30 || true
wait "$watch_pid" || true
cat "$logs/watch.txt"
echo "   (the values carry on, from the secondary: the client kept its session)"
echo
"$tandem" console -c "$config" -e pairs
echo
seconds="${DEMO_SECONDS:-}"
if [ -z "$seconds" ] && [ ! -t 1 ]; then seconds=3; fi
if [ -n "$seconds" ]; then
  echo "== events (following for $seconds s)"
  timeout --signal=INT "$seconds" "$tandem" console -c "$config" -e "events --follow" || true
else
  echo "== events --follow (Ctrl-C stops the demo; in another terminal try:"
  echo "   $tandem console -c $config)"
  "$tandem" console -c "$config" -e "events --follow" || true
fi
