#!/usr/bin/env bash
# Installs every tool m2m needs on a fresh machine of this kind (Debian 12,
# rustup Rust, Node 20) and builds everything. Idempotent: a tool already
# present at the pinned version is skipped, and builds are incremental.
#
# Installs: Debian's Rust 1.63 wasm32 std, lld, binaryen (wasm-opt) and patch
# (for the wasm build's patches of vendored crates); from
# crates.io wasm-pack and wasm-bindgen-cli (the version in
# crates/m2m-wasm/Cargo.lock); from npm the package's dev dependencies
# (@napi-rs/cli, TypeScript, vitest, ...). Nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

WASM_PACK_VERSION=0.15.1
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print }' crates/m2m-wasm/Cargo.lock)
DEBIAN_PACKAGES=(rustc cargo libstd-rust-dev-wasm32 lld binaryen patch redis-server chromium)

step() { printf '==> %s\n' "$*"; }

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi

# Ensure the rustup toolchain (not Debian's) is the default cargo for native work.
export PATH="$HOME/.cargo/bin:$PATH"
rustup component add rustfmt clippy > /dev/null 2>&1 || true

cargo_install() { # name version binary
  if "$3" --version 2>/dev/null | grep -q " $2\$"; then return; fi
  step "cargo install $1 $2"
  cargo install --quiet --locked "$1" --version "$2"
}
cargo_install wasm-pack "$WASM_PACK_VERSION" wasm-pack
cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen

lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.m2m-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.m2m-lock-hash
fi

# The consumer suite's runtimes and bundlers (Node 22, Deno, Bun, miniflare, Vite), apart from the root's
# dev dependencies so that their `node` never shadows the project's (test/consumer/tools/package.json).
tools=test/consumer/tools
tools_hash=$(sha256sum "$tools/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$tools/node_modules/.m2m-lock-hash" 2>/dev/null)" != "$tools_hash" ]; then
  step "npm ci ($tools)"
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$tools_hash" > "$tools/node_modules/.m2m-lock-hash"
fi

bash scripts/build.sh
step "set-up done in $(($(date +%s) - start)) s"
