// native.d.ts types the raw ptrace addon (ptrace-platform/native/ptrace.cc).
export interface PtraceAddon {
  /** spawnStub starts the stub traced by this thread, stopped after exec; it keeps only memfd. */
  spawnStub(path: string, memfd: number): number;
  /** inject runs one system call in the stopped stub at syscallSite and returns its result. */
  inject(pid: number, syscallSite: number, nr: number, args: Float64Array): number;
  /** run resumes (with regs, under PTRACE_SYSEMU) or keeps waiting; a wait status (bit 16: a 32-bit syscall stop), or -1 when preempted. */
  run(pid: number, regs: Uint8Array, resume: boolean, signal?: number): number;
  /** siginfo fills out with the stop's signo, si_code and si_addr. */
  siginfo(pid: number, out: Float64Array): void;
  getXstate(pid: number, out: Uint8Array): number;
  setXstate(pid: number, xstate: Uint8Array): number;
  /** kill kills the stub and reaps it. */
  kill(pid: number): void;
  /** regsSize is sizeof(struct user_regs_struct). */
  regsSize: number;
}
