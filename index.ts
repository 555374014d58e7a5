// tvisor's public API: a Sandbox runs untrusted Linux programs.
export { Sandbox } from './sentry/sandbox.js';
export type { SandboxOptions, RunOptions, RunResult } from './sentry/sandbox.js';
