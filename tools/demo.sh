#!/usr/bin/env bash
# The README demo: installs what is needed, builds, and runs a Tandem node on examples/demo.toml,
# shows its status, then follows its event log until Ctrl-C (or DEMO_SECONDS, when set or when
# there is no terminal), and stops the node cleanly.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/tools/install-deps.sh" --no-npm
cmake -S . -B build/release -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release --target tandem -j "$(nproc)"
tandem="$root/build/release/tools/tandem"
config="$root/examples/demo.toml"

"$tandem" check "$config"
"$tandem" node -c "$config" &
node_pid=$!
stop_node() {
  if kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid"
    wait "$node_pid" || true
  fi
}
trap stop_node EXIT

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
echo "== tandem console -c examples/demo.toml -e 'inject stall_actor console 10'   (a harmless fault)"
"$tandem" console -c "$config" -e "inject stall_actor console 10"
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
