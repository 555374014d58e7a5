// vdso.ts maps tvisor's vDSO (built from vdso.c) and its time page into
// programs. Both live in the memory file once per sandbox, shared by all
// its programs; AT_SYSINFO_EHDR tells libc where the vDSO is.
import { readFileSync } from 'node:fs';
import { buildOutput } from '../native/paths.js';
import { SharedMemory, type MM } from '../mm/mm.js';
import type { MemoryFile } from '../mm/memory-file.js';
import { PAGE_SIZE, Perm } from '../platform.js';
import { TimePage } from './time-page.js';

let image: Buffer | undefined;

function vdsoImage(): Buffer {
  image ??= readFileSync(buildOutput('vdso', 'vdso.so'));
  return image;
}

/** Vdso is a sandbox's vDSO: the image's frames, the time page, and how to map them. */
export class Vdso {
  readonly timePage: TimePage;
  private readonly code: SharedMemory;
  private readonly time: SharedMemory;
  readonly pages: number;

  constructor(mem: MemoryFile, tscOffset: bigint) {
    const img = vdsoImage();
    this.pages = Math.ceil(img.length / PAGE_SIZE);
    this.code = new SharedMemory(mem, 0);
    this.time = new SharedMemory(mem, 0);
    // The sandbox holds a reference of its own, so the frames outlive each program.
    this.code.refs++;
    this.time.refs++;
    this.code.sealed = true;
    this.time.sealed = true;
    for (let i = 0; i < this.pages; i++) {
      const phys = this.code.frame(i);
      if (phys < 0) throw new RangeError('no memory for the vDSO');
      mem.write(phys, img.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
    }
    const timePhys = this.time.frame(0);
    if (timePhys < 0) throw new RangeError('no memory for the vDSO time page');
    this.timePage = new TimePage(mem, timePhys, tscOffset);
    this.timePage.refresh(true);
  }

  /** map maps the time page at addr and the vDSO right above it; it returns the vDSO's address. */
  map(mm: MM, addr: number): number {
    mm.mapShared(addr, PAGE_SIZE, Perm.Read, this.time, '[vvar]');
    mm.mapShared(addr + PAGE_SIZE, this.pages * PAGE_SIZE, Perm.Read | Perm.Exec, this.code, '[vdso]');
    return addr + PAGE_SIZE;
  }

  release(): void {
    this.code.unref();
    this.time.unref();
  }
}
