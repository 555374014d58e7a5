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
    { "target_name": "tvisor_gofer", "sources": ["gofer/native/gofer.cc"] }
  ]
}
