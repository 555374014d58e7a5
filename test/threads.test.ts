// threads.test.ts: programs with threads (clone with CLONE_THREAD) and
// programs that load code at run time. The thr_* guests (pthreads through
// musl, and glibc static and dynamic), a dynamic glibc program that
// dlopens bin/libplug.so, and the host's python3 with ctypes and with 8
// threads: each runs natively, where its exact output is written down
// here, and in the sandbox on both platforms, where it must give the
// native run's outcome exactly.
import { exited, guestPath, platforms, runBoth, sandboxTest } from './helpers.js';

/** The lines thr_pthread prints, in its fixed order, on success. */
const THR_PTHREAD = [
  "join returns each thread's value",
  'threads share the pid, each has its own tid',
  '8 threads count to 160000 under a mutex',
  'mutex kinds: normal, recursive, errorcheck',
  'pthread_cond_signal: 1000 rounds of ping-pong',
  'pthread_cond_broadcast wakes 8 waiters',
  'pthread_cond_timedwait times out: ETIMEDOUT',
  'pthread_barrier_wait: 4 phases of 8, one serial thread each',
  'pthread_once runs its routine once for 8 threads',
  'pthread_rwlock: readers share, a writer waits',
  '__thread variables are distinct per thread',
  "pthread_key_create: each thread's value, destructors at exit",
  'pthread_cancel of a thread blocked in read',
  'pthread_cancel of a thread in pthread_cond_wait',
  'a cancel waits while cancellation is disabled',
  'pthread_kill runs the handler in the thread named',
  'detached threads run and end on their own',
];

/** The lines thr_fork prints on success. */
const THR_FORK = [
  'pthread_atfork registers handlers',
  'fork with workers waiting, a spinner and a mutex held',
  'fork from a thread that is not the main one',
  'exec from a thread ends the others; the image keeps the pid',
  "the parent's threads go on after the forks",
];

/** The lines dlopen_test prints on success. */
const DLOPEN = [
  'dlopen by path',
  'calls into the library',
  'dlsym of a missing symbol',
  'a second dlopen shares the first',
  'dlclose unloads at the last close',
  'dlopen of a missing file',
];

const okLines = (names: string[]) => names.map((n) => `ok ${n}\n`).join('') + 'all ok\n';

/** PYTHON_CTYPES loads libc with ctypes, calls it, and has qsort call back into Python. */
const PYTHON_CTYPES = [
  'import ctypes, os',
  'libc = ctypes.CDLL("libc.so.6")',
  'print(libc.strlen(b"sandbox"), libc.getpid() == os.getpid(), libc.abs(-7))',
  'buf = ctypes.create_string_buffer(32)',
  'libc.snprintf(buf, 32, b"%d-%s", 42, b"x")',
  'print(buf.value.decode())',
  'cmp = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))(lambda a, b: a[0] - b[0])',
  'arr = (ctypes.c_int * 5)(5, 1, 4, 2, 3)',
  'libc.qsort(arr, 5, ctypes.sizeof(ctypes.c_int), cmp)',
  'print(list(arr))',
].join('\n');

/** PYTHON_THREADS has 8 threading.Threads add to one total under a Lock; it prints after joining them. */
const PYTHON_THREADS = [
  'import threading',
  'lock = threading.Lock()',
  'total = [0]',
  'others = [False] * 8',
  'main = threading.get_ident()',
  'def work(i):',
  '    for _ in range(10000):',
  '        with lock:',
  '            total[0] += 1',
  '    others[i] = threading.get_ident() != main',
  'threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]',
  'for t in threads: t.start()',
  'for t in threads: t.join()',
  'print(total[0], all(others), threading.active_count())',
].join('\n');

const CASES: { title: string; argv: () => string[]; expected: string }[] = [
  ...['thr_pthread', 'thr_pthread.glibc', 'thr_pthread.dynamic'].map((name) => ({
    title: `${name}: mutexes, condition variables, barriers, TLS, cancellation, pthread_kill`,
    argv: () => [guestPath(name)],
    expected: okLines(THR_PTHREAD),
  })),
  ...['thr_fork', 'thr_fork.glibc'].map((name) => ({
    title: `${name}: fork and exec with threads, pthread_atfork`,
    argv: () => [guestPath(name)],
    expected: okLines(THR_FORK),
  })),
  {
    title: 'dlopen_test: dlopen, dlsym and dlclose of bin/libplug.so',
    argv: () => [guestPath('dlopen_test'), guestPath('libplug.so')],
    expected: okLines(DLOPEN),
  },
  {
    title: 'python3 ctypes calls libc, and libc calls back',
    argv: () => ['/usr/bin/python3', '-c', PYTHON_CTYPES],
    expected: '7 True 7\n42-x\n[1, 2, 3, 4, 5]\n',
  },
  {
    title: 'python3: 8 threading.Threads count under a Lock',
    argv: () => ['/usr/bin/python3', '-c', PYTHON_THREADS],
    expected: '80000 True 1\n',
  },
];

for (const platform of platforms) {
  const ptest = sandboxTest(platform);
  for (const c of CASES) {
    ptest(`${platform}: ${c.title}`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, c.argv(), { env: ['PATH=/usr/bin:/bin', 'LC_ALL=C'] });
      t.deepEqual(native, exited(c.expected));
      t.deepEqual(sandboxed, native);
    });
  }
}
