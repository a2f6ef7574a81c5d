#!/usr/bin/env bash
# Builds everything: the native addon, the two wasm packages and the TS package.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> BPE rank files (build/ranks)"
node scripts/gen-ranks.mjs
echo "==> trained dictionaries (build/dictionaries, from ../shared/data/traffic-dev)"
node scripts/gen-dictionaries.mjs --quiet
echo "==> native addon (napi-rs)"
npx napi build --manifest-path crates/m2m-napi/Cargo.toml --platform --release \
  --output-dir build/native --js index.cjs --dts index.d.cts > /dev/null
# The addon also goes into its platform package (npm/<platform>/, published on
# its own and installed through optionalDependencies; see docs/packaging.md).
for node in build/native/m2m.*.node; do
  platform=${node#build/native/m2m.}
  platform=${platform%.node}
  if [ -d "npm/$platform" ]; then cp "$node" "npm/$platform/"; fi
done
bash scripts/build-wasm.sh
echo "==> playground (build/playground)"
bash scripts/build-playground.sh
echo "==> third-party notices (build/THIRD_PARTY_NOTICES.md)"
node scripts/gen-notices.mjs > /dev/null
echo "==> TypeScript"
# build:ts empties dist/ first (tsc never deletes outputs whose source is gone), bundles
# the Node entries (scripts/bundle.mjs) and sets the bin's executable bit, which tsc does
# not and which npm linked before the file existed.
npm run -s build:ts
