// host.ts loads the host addon built by node-gyp.
import type { HostAddon } from './host-addon.js';
import { loadAddon } from './paths.js';

/** host is the raw addon; callers validate their arguments first. */
export const host = loadAddon<HostAddon>('tvisor_host');
