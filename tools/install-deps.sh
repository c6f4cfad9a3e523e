#!/usr/bin/env bash
# Installs everything Tandem needs to build, test and run on Debian 12. Idempotent: packages
# already present are not touched, and apt-get runs only when something is missing.
set -euo pipefail

packages=(
  # toolchain
  cmake ninja-build clang libclang-rt-14-dev clang-format pkg-config
  # libraries (docs/DEVELOPING.md says what each is for)
  libcaf-dev libboost-dev libtomlplusplus-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev
  libcli11-dev libspdlog-dev nlohmann-json3-dev libedit-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3-aiosmtpd iproute2 procps
  # the status page test (issue 9) drives headless Chromium over its DevTools pipe
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm run the node-opcua test peer; some images ship their own (nodejs with a newer
# bundled npm), which Debian's npm package would conflict with.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The independent OPC UA peer used by interoperability tests (pinned by its lock file).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -f "$root/tests/interop/package-lock.json" ] && [ "${1:-}" != "--no-npm" ]; then
  if [ ! -d "$root/tests/interop/node_modules" ] ||
     [ "$root/tests/interop/package-lock.json" -nt "$root/tests/interop/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in tests/interop"
    (cd "$root/tests/interop" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
echo "install-deps: all dependencies present"
