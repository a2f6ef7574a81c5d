#!/usr/bin/env bash
# Runs every check and test: formatting and lints (Rust and TS), the Rust
# crates' tests, and the vitest suites once per backend.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n==> %s\n' "$*"; }

step "rustfmt"
cargo fmt --all --check
cargo fmt --manifest-path crates/m2m-wasm/Cargo.toml --check
step "clippy"
cargo clippy --quiet --workspace --all-targets --locked -- -D warnings
(cd crates/m2m-wasm && CARGO_TARGET_DIR=../../target/wasm-clippy cargo clippy --quiet --locked -- -D warnings)
step "biome + tsc"
npx biome check .
npx tsc -p tsconfig.json --noEmit
step "cargo test"
node scripts/gen-bpe-fixtures.mjs > /dev/null # reference ids from tiktoken and llama3-tokenizer-js
cargo test --quiet --workspace --locked
for backend in native wasm; do
  step "vitest (M2M_BACKEND=$backend)"
  M2M_BACKEND=$backend npx vitest run
done
step "consumer suite (npm pack, fresh projects: Node 20/22, Deno, Bun, tsc, esbuild, Vite, workerd)"
npx tsx test/consumer/run.ts
