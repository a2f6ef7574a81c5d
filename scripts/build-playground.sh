#!/usr/bin/env bash
# Builds the playground (playground/) into build/playground/: a self-contained
# static site (index.html, CSS, the page and worker bundles, the wasm module and
# the three tokenizers' rank files) that works from any static server, offline.
# Needs build/wasm-web (scripts/build-wasm.sh) and build/ranks (gen-ranks.mjs).
# Idempotent: the output is rebuilt from scratch each time (esbuild, < 1 s).
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/playground
esbuild=node_modules/.bin/esbuild

for f in build/wasm-web/m2m_wasm.js build/wasm-web/m2m_wasm_bg.wasm \
  build/ranks/cl100k_base.bpe build/ranks/o200k_base.bpe build/ranks/llama3.bpe; do
  if [ ! -f "$f" ]; then
    echo "build-playground: $f is missing; run scripts/build.sh (or npm run setup) first" >&2
    exit 1
  fi
done
if [ ! -x "$esbuild" ]; then
  echo "build-playground: $esbuild is missing; run npm ci" >&2
  exit 1
fi

echo "==> playground (build/playground)"
tmp=$(mktemp -d build/.playground.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The page and the worker; the library (shared by the worker and the page's
# lazy main-thread hook) and the scanner become chunks loaded on first use.
"$esbuild" playground/main.ts ts/worker.ts \
  --bundle --splitting --format=esm --platform=browser \
  --target=es2022,chrome100,firefox115,safari16 \
  --minify --sourcemap=linked --legal-comments=none --charset=utf8 \
  --entry-names='[name]' --chunk-names='chunks/[name]-[hash]' \
  --outdir="$tmp" --log-level=warning

cp playground/index.html playground/style.css "$tmp/"
cp build/wasm-web/m2m_wasm_bg.wasm "$tmp/"
mkdir -p "$tmp/ranks"
cp build/ranks/cl100k_base.bpe build/ranks/o200k_base.bpe build/ranks/llama3.bpe "$tmp/ranks/"

rm -rf "$out"
mv "$tmp" "$out"
chmod 755 "$out"
trap - EXIT

js=$(find "$out" -name '*.js' -printf '%s\n' | awk '{ s += $1 } END { print s }')
wasm=$(stat -c %s "$out/m2m_wasm_bg.wasm")
echo "    JS $((js / 1024)) KiB, wasm $((wasm / 1024)) KiB, ranks $(du -sk "$out/ranks" | cut -f1) KiB"
