// host.ts loads the host addon built by node-gyp.
import type { HostAddon } from './host-addon.js';
import { loadAddon } from './paths.js';
import type { XstateLayout } from '../platform.js';

/** host is the raw addon; callers validate their arguments first. */
export const host = loadAddon<HostAddon>('tvisor_host');

/** LEGACY_AND_HEADER is the size of an XSAVE image's FXSAVE area and header, where the first extended component may start. */
const LEGACY_AND_HEADER = 576;

/**
 * xstateLayout is the standard-format XSAVE layout of the given features
 * (XCR0 bits) on this CPU: its size is the end of the component that
 * ends last, from CPUID leaf 0xd.
 */
export function xstateLayout(features: bigint): XstateLayout {
  let size = LEGACY_AND_HEADER;
  for (let i = 2; i < 64; i++) {
    if (!(features & (1n << BigInt(i)))) continue;
    const [bytes, offset] = host.cpuid(0xd, i);
    size = Math.max(size, offset + bytes);
  }
  return { features, size };
}
