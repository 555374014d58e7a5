// addon.ts loads the Gofer addon built by node-gyp.
import type { GoferAddon } from './gofer-addon.js';
import { loadAddon } from '../../sentry/native/paths.js';

/** sys is the raw addon; callers validate their arguments first. */
export const sys = loadAddon<GoferAddon>('tvisor_gofer');
