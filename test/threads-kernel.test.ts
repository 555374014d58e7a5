// threads-kernel.test.ts: threads as the kernel sees them (issue 7): the
// thr_clone guest (raw clone(2) threads: the flag rules, ids, CLONE_FS,
// CLONE_SIGHAND, a thread's exit, exit_group from a thread, a leader that
// ends first, tgkill, kill to a process whose main thread blocks the
// signal, a fatal signal), the thr_kernel guest with musl and glibc
// (pthread_create, pthread_kill, a robust mutex's owner dying, condition
// variables, affinity, thread names, /proc/self/task and Threads:, fork
// from a threaded process, a leader's pthread_exit, exec from a thread),
// each compared line for line with its native run; the thr_spin guest,
// whose two spinning threads run at the same time with --cpus 2 and take
// turns with --cpus 1; --pids-limit counting threads; and the cpus option.
import { Sandbox } from '../index.js';
import { guestPath, platforms, runBoth, sandboxTest } from './helpers.js';

const GUESTS = ['thr_clone', 'thr_kernel', 'thr_kernel.glibc'];

for (const platform of platforms) {
  const ptest = sandboxTest(platform);

  for (const name of GUESTS) {
    ptest(`${platform}: ${name}`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, [guestPath(name)]);
      t.is(native.stdout.split('\n').filter((l) => l && !l.startsWith('ok ')).pop(), 'all ok');
      t.is(native.exitCode, 0);
      t.deepEqual(sandboxed, native);
    });
  }

  ptest(`${platform}: two spinning threads take turns, with --cpus 1 and 2`, async (t) => {
    for (const cpus of [1, 2]) {
      const sb = await Sandbox.create({ platform, cpus });
      const r = await sb.run([guestPath('thr_spin'), 'turns']);
      await sb.close();
      t.deepEqual([r.exitCode, r.stdout], [0, '20 round trips\n'], `--cpus ${cpus}`);
    }
  });

  ptest(`${platform}: sched_getaffinity shows the sandbox's CPUs`, async (t) => {
    const sb = await Sandbox.create({ platform, cpus: 3 });
    const r = await sb.run(['/bin/busybox', 'nproc']);
    await sb.close();
    t.deepEqual([r.exitCode, r.stdout], [0, '3\n']);
  });

  ptest(`${platform}: threads count against --pids-limit`, async (t) => {
    // The main thread and one more fit a limit of 2; the third fails with EAGAIN.
    const sb = await Sandbox.create({ platform, pidsLimit: 2 });
    const r = await sb.run([guestPath('thr_spin'), 'turns']);
    await sb.close();
    t.deepEqual([r.exitCode, r.stdout], [3, 'pthread_create: Resource temporarily unavailable\n']);
  });
}

const kvmTest = sandboxTest('kvm');

kvmTest('kvm: with --cpus 2, two threads run in the guest at the same time', async (t) => {
  const sb = await Sandbox.create({ platform: 'kvm', cpus: 2 });
  const r = await sb.run([guestPath('thr_spin'), 'parallel']);
  await sb.close();
  t.deepEqual(r.stdout, 'both threads saw the other move 1000 times while they ran\n');
  t.is(r.exitCode, 0);
});

kvmTest('kvm: the cpus option is checked', async (t) => {
  await t.throwsAsync(Sandbox.create({ platform: 'kvm', cpus: 0 }), { message: /invalid cpus/ });
  await t.throwsAsync(Sandbox.create({ platform: 'kvm', cpus: 65 }), { message: /invalid cpus/ });
});
