// log.ts: the Sentry's logs. With --debug-log FILE (or strace output)
// they go through winston; without, the only lines a run can print are
// internal errors, straight to stderr, and winston (about 45 ms of module
// loading) is not loaded at all, which keeps `tvisor run` quick to start.
import { createRequire } from 'node:module';
import type winston from 'winston';

/** loadWinston loads winston (CommonJS) only when a log is asked for. */
function loadWinston(): typeof winston {
  return createRequire(import.meta.url)('winston') as typeof winston;
}

/** Logger is what the Sentry logs through. */
export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /** close flushes everything written so far. */
  close(): Promise<void>;
}

export interface LogOptions {
  /** debugLog is a file that receives every log line at debug level. */
  debugLog?: string;
}

/** stderrOnly reports internal errors and drops the rest. */
const stderrOnly: Logger = {
  error: (m) => process.stderr.write(`tvisor: ${m}\n`),
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  close: () => Promise.resolve(),
};

function wrap(w: winston.Logger): Logger {
  return {
    error: (m) => w.error(m),
    warn: (m) => w.warn(m),
    info: (m) => w.info(m),
    debug: (m) => w.debug(m),
    close: () => closeWinston(w),
  };
}

export async function createLogger(opts: LogOptions): Promise<Logger> {
  if (!opts.debugLog) return stderrOnly;
  const w = loadWinston();
  return wrap(w.createLogger({
    level: 'debug',
    transports: [
      new w.transports.File({
        filename: opts.debugLog,
        level: 'debug',
        format: w.format.combine(w.format.timestamp(), w.format.printf((i) => `${i.timestamp} ${i.level} ${i.message}`)),
      }),
      new w.transports.Console({ level: 'error', stderrLevels: ['error'], format: w.format.printf((i) => `tvisor: ${i.message}`) }),
    ],
  }));
}

/** createStraceLogger prints strace lines to stderr, as strace does. */
export async function createStraceLogger(): Promise<Logger> {
  const w = loadWinston();
  return wrap(w.createLogger({
    level: 'info',
    transports: [new w.transports.Console({ stderrLevels: ['info'], format: w.format.printf((i) => String(i.message)) })],
  }));
}

/**
 * closeWinston ends a logger and resolves once every transport has written
 * everything: the logger's own 'finish' comes before its transports'.
 */
async function closeWinston(l: winston.Logger): Promise<void> {
  const transports = [...l.transports];
  const done = transports.map((t) => new Promise<void>((resolve) => {
    if ((t as unknown as { writableFinished?: boolean }).writableFinished) resolve();
    else t.once('finish', () => resolve());
  }));
  l.end();
  await Promise.all(done);
}
