// paths.ts finds what the build produced (the native addons, the stubs)
// from wherever this code runs: its own module in dist/, or the bundled
// CLI. It walks up to the package's root, the folder with package.json.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packageRoot is the tvisor package's folder. */
export const packageRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('tvisor: cannot find the package root (no package.json above this module)');
    dir = up;
  }
  return dir;
})();

const require = createRequire(import.meta.url);

/** loadAddon loads a native addon that node-gyp built. */
export function loadAddon<T>(name: string): T {
  return require(join(packageRoot, 'build', 'Release', `${name}.node`)) as T;
}

/** buildOutput names a file the build wrote under dist/. */
export function buildOutput(...parts: string[]): string {
  return join(packageRoot, 'dist', ...parts);
}
