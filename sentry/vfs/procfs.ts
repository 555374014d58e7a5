// procfs.ts: /proc as the sandbox's programs see it. It shows the
// sandbox's own tasks only, never the host's processes, and the machine
// as the sandbox presents it.
import { cpus } from 'node:os';
import { SynDir, SynFile, SynLink } from './synthetic.js';
import type { Caller, VNode } from './node.js';
import { PIPE_MAX_SIZE, type FileDescription } from './file.js';
import type { Mount } from './vfs.js';
import type { Credentials } from '../kernel/credentials.js';

const PROC_SUPER_MAGIC = 0x9fa0;
const PROC_DEV = 0x16;

const STATE_NAMES: Record<string, string> = { R: 'running', S: 'sleeping', T: 'stopped', Z: 'zombie' };

/** ProcTask is what procfs shows of one task (thread): /proc/PID for a process's leader, /proc/PID/task/TID for each thread. */
export interface ProcTask {
  /** pid is the task's process id (its thread group's), tid its own. */
  pid: number;
  tid: number;
  /** threads are the process's threads: the leader (a zombie, once it ended before the others) and the live ones. */
  threads(): ProcTask[];
  ppid: number;
  comm: string;
  pgid: number;
  sid: number;
  /** state is the task's letter in stat and status: R running, S sleeping in a call, T stopped, Z ended (a leader whose threads live on). */
  state(): string;
  exe: string;
  cwd(): string;
  cmdline: Uint8Array;
  environ: Uint8Array;
  auxv: Uint8Array;
  creds: Credentials;
  fds(): [number, FileDescription][];
  fd(n: number): FileDescription | undefined;
  /** maps is /proc/PID/maps's text. */
  maps(): string;
  /** vmKb is the task's committed memory, for status. */
  vmKb(): number;
}

/** ProcSource is what procfs reads from the sandbox. */
export interface ProcSource {
  tasks(): ProcTask[];
  mounts(): Mount[];
  memoryLimit: number;
  committed(): number;
  startedMs: number;
}

export function procfs(src: ProcSource): VNode {
  const d = (entries: () => Map<string, VNode>, mode = 0o555) => new SynDir(PROC_DEV, PROC_SUPER_MAGIC, entries, mode);
  const f = (render: () => string | Uint8Array) => new SynFile(PROC_DEV, PROC_SUPER_MAGIC, render);
  const l = (target: (c: Caller | undefined) => string, stands?: (c: Caller | undefined) => FileDescription | undefined) =>
    new SynLink(PROC_DEV, PROC_SUPER_MAGIC, target, stands);

  const mountsText = () => src.mounts().map((m) => `${m.source} ${m.target} ${m.fstype} ${m.readOnly ? 'ro' : 'rw'},relatime 0 0\n`).join('');

  /** taskDir is /proc/PID (a process, with its task/ directory) or /proc/PID/task/TID (a thread). */
  const taskDir = (t: ProcTask, process: boolean): VNode => {
    // A link looks its fd up when followed: the VFS caches the name, and the fd may have been closed and reused since.
    const fdLink = (n: number) => l(() => t.fd(n)?.procLink() ?? '', () => t.fd(n));
    const fdDir = d(() => new Map(t.fds().map(([n]) => [String(n), fdLink(n)])), 0o500);
    const entries = (): [string, VNode][] => process ? [['task', d(() => new Map(t.threads().map((th) => [String(th.tid), taskDir(th, false)])))]] : [];
    return d(() => new Map<string, VNode>([
      ...entries(),
      ['exe', l(() => t.exe)],
      ['cwd', l(() => t.cwd())],
      ['root', l(() => '/')],
      ['fd', fdDir],
      ['cmdline', f(() => t.cmdline)],
      ['environ', f(() => t.environ)],
      ['auxv', f(() => t.auxv)],
      ['comm', f(() => `${t.comm}\n`)],
      ['maps', f(() => t.maps())],
      ['mounts', f(mountsText)],
      ['status', f(() => {
        const c = t.creds;
        const caps = (set: bigint) => set.toString(16).padStart(16, '0');
        return [
          `Name:\t${t.comm}`, 'Umask:\t0022', `State:\t${t.state()} (${STATE_NAMES[t.state()]})`, `Tgid:\t${t.pid}`, 'Ngid:\t0', `Pid:\t${t.tid}`, `PPid:\t${t.ppid}`,
          'TracerPid:\t0', `Uid:\t${c.uid}\t${c.euid}\t${c.suid}\t${c.fsuid}`, `Gid:\t${c.gid}\t${c.egid}\t${c.sgid}\t${c.fsgid}`,
          // Linux ends the groups with a space, even when there are none.
          'FDSize:\t64', `Groups:\t${c.groups.map((g) => `${g} `).join('') || ' '}`, `VmSize:\t${t.vmKb()} kB`, `VmRSS:\t${t.vmKb()} kB`, `Threads:\t${t.threads().length}`,
          `CapInh:\t${caps(c.inheritable)}`, `CapPrm:\t${caps(c.permitted)}`, `CapEff:\t${caps(c.effective)}`, `CapBnd:\t${caps(c.bounding)}`,
          `CapAmb:\t${caps(0n)}`, '',
        ].join('\n');
      })],
      ['stat', f(() => `${t.tid} (${t.comm}) ${t.state()} ${t.ppid} ${t.pgid} ${t.sid} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 ${t.threads().length} 0 0 ${t.vmKb() * 1024} 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n`)],
    ]));
  };

  const kernel = d(() => new Map<string, VNode>([
    ['hostname', f(() => 'tvisor\n')],
    ['ostype', f(() => 'Linux\n')],
    ['osrelease', f(() => '6.1.0\n')],
    ['pid_max', f(() => '4194304\n')],
  ]));
  const fs = d(() => new Map<string, VNode>([['pipe-max-size', f(() => `${PIPE_MAX_SIZE}\n`)]]));
  const sys = d(() => new Map<string, VNode>([['fs', fs], ['kernel', kernel]]));

  return d(() => {
    const m = new Map<string, VNode>();
    for (const t of src.tasks()) m.set(String(t.pid), taskDir(t, true));
    const self = (c: Caller | undefined) => (c ? String(c.pid) : '');
    m.set('self', l(self));
    m.set('thread-self', l((c) => (c ? `${c.pid}/task/${c.tid}` : '')));
    m.set('mounts', l(() => 'self/mounts'));
    m.set('cpuinfo', f(() => cpus().map((c, i) => [
      `processor\t: ${i}`, 'vendor_id\t: GenuineIntel', `model name\t: ${c.model}`, `cpu MHz\t\t: ${c.speed.toFixed(3)}`,
      'cache size\t: 0 KB', `cpu cores\t: ${cpus().length}`, 'fpu\t\t: yes', '', '',
    ].join('\n')).join('')));
    m.set('meminfo', f(() => {
      const kb = (n: number) => `${Math.floor(n / 1024)} kB`.padStart(11);
      const total = src.memoryLimit;
      const free = Math.max(0, total - src.committed());
      return [`MemTotal:${kb(total)}`, `MemFree:${kb(free)}`, `MemAvailable:${kb(free)}`, `Buffers:${kb(0)}`, `Cached:${kb(0)}`,
        `SwapTotal:${kb(0)}`, `SwapFree:${kb(0)}`, ''].join('\n');
    }));
    m.set('uptime', f(() => {
      const up = (Date.now() - src.startedMs) / 1000;
      return `${up.toFixed(2)} ${up.toFixed(2)}\n`;
    }));
    m.set('loadavg', f(() => `0.00 0.00 0.00 1/${src.tasks().length} ${src.tasks().length}\n`));
    m.set('version', f(() => 'Linux version 6.1.0 (tvisor) #1 SMP tvisor\n'));
    m.set('filesystems', f(() => 'nodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\toverlay\n\tgofer\n'));
    m.set('sys', sys);
    return m;
  });
}
