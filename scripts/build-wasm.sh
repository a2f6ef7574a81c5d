#!/usr/bin/env bash
# Builds crates/m2m-wasm with wasm-pack for Node (build/wasm-node) and for the
# web (build/wasm-web), then size-optimises each .wasm with wasm-opt.
#
# The wasm32 standard library comes from Debian's Rust 1.63 (rustup cannot
# download one here; DESIGN §4), so cargo and rustc are Debian's: /usr/bin goes
# first on PATH. Debian's cargo cannot reach the sparse crates.io index, so the
# crate's dependencies are vendored first by the rustup cargo. Each
# crates/m2m-wasm/patches/<crate>.patch is applied to the vendored <crate>
# (why each one is needed: docs/performance.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
crate="$root/crates/m2m-wasm"
vendor="$root/target/wasm-vendor"
# Written by this script for the build only (cargo finds it from the working
# directory, so wasm-pack runs in the crate's folder), removed on exit so that
# `cargo update` and clippy there use crates.io as usual.
config="$crate/.cargo/config.toml"
trap 'rm -f "$config"' EXIT

vendor_hash=$(cat "$crate/Cargo.lock" "$crate"/patches/*.patch | sha256sum)
if [ ! -f "$vendor/.lock-hash" ] || [ "$(cat "$vendor/.lock-hash")" != "$vendor_hash" ]; then
  echo "==> vendoring wasm dependencies"
  rm -f "$config"
  rm -rf "$vendor"
  (cd "$crate" && cargo vendor --locked --quiet "$vendor" > /dev/null)
  for patch in "$crate"/patches/*.patch; do
    name=$(basename "$patch" .patch)
    echo "==> patching vendored $name"
    patch --quiet --forward -p1 -d "$vendor/$name" < "$patch"
    # The patched files no longer match the recorded checksums: drop them.
    node -e 'const f = process.argv[1], fs = require("fs"), j = JSON.parse(fs.readFileSync(f, "utf8")); j.files = {}; fs.writeFileSync(f, JSON.stringify(j));' "$vendor/$name/.cargo-checksum.json"
  done
  echo "$vendor_hash" > "$vendor/.lock-hash"
  # Cargo takes vendored crates as immutable and would keep what it built
  # from the unpatched sources.
  rm -rf "$root/target/wasm"
fi
mkdir -p "$(dirname "$config")"
printf '[source.crates-io]\nreplace-with = "vendored-sources"\n\n[source.vendored-sources]\ndirectory = "%s"\n' "$vendor" > "$config"

export CARGO_TARGET_DIR="$root/target/wasm"
cd "$crate"
for target in nodejs web; do
  out="$root/build/wasm-$([ $target = nodejs ] && echo node || echo web)"
  echo "==> wasm-pack ($target) -> ${out#"$root"/}"
  PATH="/usr/bin:$PATH" wasm-pack --quiet build . --release --mode no-install \
    --target "$target" --out-dir "$out" --out-name m2m_wasm --no-pack \
    -- --frozen
  # wasm-pack's nodejs glue is CommonJS, its web glue an ES module; say so,
  # since the package root is "type": "module".
  printf '{ "type": "%s" }\n' "$([ $target = nodejs ] && echo commonjs || echo module)" > "$out/package.json"
  wasm-opt -Os --strip-debug --strip-producers "$out/m2m_wasm_bg.wasm" -o "$out/m2m_wasm_bg.wasm"
  # wasm-pack writes a .gitignore of `*`, which npm pack honours: it would keep the build out of the package.
  rm -f "$out/.gitignore"
done
