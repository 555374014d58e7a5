// processes.test.ts: process trees in the sandbox. Shell commands that
// fork, exec and wait, compared with the same command run natively; exit
// statuses of children killed by signals; #! scripts; the pids limit and a
// fork bomb held by it; the pipelines, traps and background jobs;
// and the proc_* guest programs that pass (each compared with its native
// run, line for line).
import { Sandbox } from '../index.js';
import { exited, guestPath, platforms, runBoth, sandboxTest, type RunResult } from './helpers.js';

/** GUESTS are the proc_*.c programs that pass in the sandbox; each prints "ok NAME" lines and "all ok". */
const GUESTS = ['proc_fork', 'proc_exec', 'proc_vfork', 'proc_misc', 'proc_pipe', 'proc_pipe_stream', 'proc_image', 'proc_signal', 'proc_restart', 'proc_stop', 'proc_kill', 'proc_creds', 'proc_fpu', 'futex', 'futex_pi'];

const BUSYBOX = '/bin/busybox';
const ENV = ['PATH=/usr/bin:/bin'];

interface Case {
  title: string;
  script: string;
  /** expected is the outcome natively, where it can be written down; else only the native run's exit 0 is checked. */
  expected?: RunResult;
  /** stderrVaries: the shell's stderr differs from run to run (natively too), so it is left out. */
  stderrVaries?: boolean;
}

const CASES: Case[] = [
  {
    title: 'external commands and their statuses',
    script: '/bin/busybox echo a; /bin/busybox true; echo $?; /bin/busybox false; echo $?; /bin/busybox sh -c "exit 3"; echo $?',
    expected: exited('a\n0\n1\n3\n'),
  },
  // The shell reports a child killed by a signal on stderr ("Killed").
  { title: 'a child killed by SIGKILL gives 137', script: '/bin/busybox sh -c "kill -9 \\$\\$"; echo $?', expected: exited('137\n', 0, 'Killed\n') },
  { title: "sh -c 'kill -9 $$' itself", script: 'kill -9 $$', expected: { exitCode: 137, signal: 'SIGKILL', timedOut: false, stdout: '', stderr: '' } },
  { title: 'a subshell', script: '(exit 4); echo $?; (echo in a subshell)', expected: exited('4\nin a subshell\n') },
  {
    title: 'a pipeline: seq 1 100000 | grep 7 | wc -l',
    script: 'seq 1 100000 | grep 7 | wc -l',
    expected: exited('40951\n'),
  },
  {
    title: 'command substitution and a here-document',
    script: 'x=$(echo a b c | wc -w); echo "[$x]"; /bin/busybox cat <<EOF\nline 1\nline 2\nEOF',
    expected: exited('[3]\nline 1\nline 2\n'),
  },
  {
    // Whether the shell also reports "Terminated" on stderr depends on when
    // it notices the job's end, natively too: stderr is not compared.
    title: 'a background sleep killed, then waited for: 143',
    script: '/bin/busybox sleep 5 & pid=$!; kill $pid; wait $pid; echo $?',
    expected: exited('143\n'),
    stderrVaries: true,
  },
  {
    title: 'a background job, wait for it, and its status',
    script: '/bin/busybox sh -c "exit 7" & wait $!; echo $?',
    expected: exited('7\n'),
  },
  {
    title: 'trap runs a handler for a signal sent to the shell itself',
    script: 'trap "echo caught" USR1; kill -USR1 $$; echo after',
    expected: exited('caught\nafter\n'),
  },
  {
    // The hash is the host's own: the sandboxed run must print the same.
    title: 'xargs and sort over a find, hashed',
    script: 'find /usr/share/doc -name copyright | head -50 | xargs sha256sum | sort | sha256sum',
  },
  {
    title: 'set -e stops at the first failing command',
    script: 'set -e; /bin/busybox true; echo one; /bin/busybox false; echo two',
    expected: exited('one\n', 1),
  },
  {
    // busybox takes its interpreter argument, "sh", as the applet to run.
    title: 'a #! script with an argument for its interpreter, written and run',
    script: 'printf "#!/bin/busybox sh\\necho script \\"\\$0\\" \\"\\$1\\"\\n" > /tmp/tvisor-s.sh; /bin/busybox chmod +x /tmp/tvisor-s.sh; /tmp/tvisor-s.sh x; echo $?; /bin/busybox rm /tmp/tvisor-s.sh',
    expected: exited('script /tmp/tvisor-s.sh x\n0\n'),
  },
  {
    title: 'exec replaces the shell',
    script: 'exec /bin/busybox echo replaced; echo not reached',
    expected: exited('replaced\n'),
  },
  {
    // busybox sh gives 127 for both (bash would give 126 for the second).
    title: 'a missing command, and a file that is not executable, give 127',
    script: '/nonexistent 2>/dev/null; echo $?; /etc/hostname 2>/dev/null; echo $?',
    expected: exited('127\n127\n'),
  },
];

for (const platform of platforms) {
  const ptest = sandboxTest(platform);
  for (const c of CASES) {
    ptest(`${platform}: sh: ${c.title}`, async (t) => {
      const both = await runBoth(platform, [BUSYBOX, 'sh', '-c', c.script], { env: ENV });
      const { native, sandboxed } = c.stderrVaries
        ? { native: { ...both.native, stderr: '' }, sandboxed: { ...both.sandboxed, stderr: '' } }
        : both;
      if (c.expected) t.deepEqual(native, c.expected);
      else t.deepEqual([native.exitCode, native.stderr, native.stdout.length > 0], [0, '', true]);
      t.deepEqual(sandboxed, native);
    });
  }

  for (const name of GUESTS) {
    ptest(`${platform}: ${name}`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, [guestPath(name)]);
      t.is(native.stdout.split('\n').filter((l) => l && !l.startsWith('ok ')).join('\n'), 'all ok');
      t.deepEqual(native.exitCode, 0);
      t.deepEqual(sandboxed, native);
    });
  }

  ptest(`${platform}: 300 fork-execs and 300 vfork-execs of the same program in a row`, async (t) => {
    const { native, sandboxed } = await runBoth(platform, [guestPath('exec_loop'), BUSYBOX, '300']);
    t.deepEqual(native, exited('ok fork-exec 300\nok vfork-exec 300\nall ok\n'));
    t.deepEqual(sandboxed, native);
  });

  ptest(`${platform}: a fork bomb stops at --pids-limit with EAGAIN, and every child is reaped`, async (t) => {
    const sb = await Sandbox.create({ platform, pidsLimit: 24 });
    const r = await sb.run([guestPath('forkbomb')]);
    await sb.close();
    t.deepEqual([r.exitCode, r.stdout], [0, '24 processes, then EAGAIN\n23 reaped\n']);
  });

  ptest(`${platform}: the first program is PID 1, and its children are gone when it ends`, async (t) => {
    const sb = await Sandbox.create({ platform });
    // The shell leaves a sleeping child behind; the run ends with the shell.
    const r = await sb.run([BUSYBOX, 'sh', '-c', 'echo $$; /bin/busybox sleep 30 & echo started'], { env: ENV });
    await sb.close();
    t.deepEqual([r.exitCode, r.stdout], [0, '1\nstarted\n']);
  });
}
