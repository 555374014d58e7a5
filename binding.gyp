{
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
    "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
  },
  "targets": [
    { "target_name": "tvisor_host", "sources": ["sentry/native/host.cc"] },
    { "target_name": "tvisor_kvm", "sources": ["kvm-platform/native/kvm.cc"] },
    { "target_name": "tvisor_ptrace", "sources": ["ptrace-platform/native/ptrace.cc"] },
    { "target_name": "tvisor_gofer", "sources": ["gofer/native/gofer.cc"] },
    {
      "target_name": "tvisor-gofer",
      "type": "executable",
      "sources": ["gofer/native/server.c", "gofer/native/msgpack.c"],
      "cflags_c": ["-std=c11", "-O2", "-Wall", "-Wextra"],
      "ldflags": ["-static"],
      "actions": [{
        "action_name": "ring_abi",
        "inputs": ["gofer/ring.ts", "scripts/gen-abi.ts"],
        "outputs": ["<(module_root_dir)/gofer/native/ring-abi.h"],
        "action": ["sh", "-c", "node_modules/.bin/esbuild scripts/gen-abi.ts --bundle --platform=node --format=esm --log-level=warning --outfile=build/gen-abi.mjs && node build/gen-abi.mjs && touch gofer/native/ring-abi.h"]
      }]
    }
  ]
}
