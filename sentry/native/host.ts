// host.ts loads the host addon built by node-gyp.
import { createRequire } from 'node:module';
import type { HostAddon } from './host-addon.js';

const require = createRequire(import.meta.url);
/** host is the raw addon; callers validate their arguments first. */
export const host: HostAddon = require('../../../build/Release/tvisor_host.node');
