#!/usr/bin/env bash
# bundle-cli.sh bundles the CLI and everything it imports into one file,
# dist/cli/tvisor.mjs (the package's bin), so `tvisor run` starts without
# resolving and compiling some forty modules: about 20 ms of a CLI start.
# winston stays outside: the CLI loads it only for --debug-log and --strace.
set -euo pipefail
cd "$(dirname "$0")/.."
npx esbuild dist/cli/tvisor.js --bundle --platform=node --format=esm --log-level=warning \
  --external:winston --external:'*.node' --outfile=dist/cli/tvisor.mjs
chmod +x dist/cli/tvisor.mjs
