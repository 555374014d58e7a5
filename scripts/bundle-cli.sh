#!/usr/bin/env bash
# bundle-cli.sh bundles the CLI and everything it imports into one
# CommonJS file, dist/cli/tvisor.cjs (the package's bin), so that `tvisor
# run` starts without resolving and compiling some forty ES modules or
# loading Node's ES module machinery: a good part of a CLI start. winston
# stays outside: the CLI loads it only for --debug-log and --strace. The
# one use of import.meta.url (sentry/native/paths.ts) becomes the file's
# own URL.
set -euo pipefail
cd "$(dirname "$0")/.."
npx esbuild dist/cli/tvisor.js --bundle --platform=node --format=cjs --log-level=warning \
  --external:winston --external:'*.node' \
  --define:import.meta.url=__tvisorModuleUrl \
  --banner:js="const __tvisorModuleUrl = require('node:url').pathToFileURL(__filename).href;" \
  --outfile=dist/cli/tvisor.cjs
chmod +x dist/cli/tvisor.cjs
