// log.ts: the Sentry's logs go through winston. By default only errors
// reach stderr; --debug-log FILE captures everything at debug level.
import winston from 'winston';

export type Logger = winston.Logger;

export interface LogOptions {
  /** debugLog is a file that receives every log line at debug level. */
  debugLog?: string;
}

export function createLogger(opts: LogOptions): Logger {
  const transports: winston.transport[] = [];
  if (opts.debugLog) {
    transports.push(new winston.transports.File({
      filename: opts.debugLog,
      level: 'debug',
      format: winston.format.combine(winston.format.timestamp(), winston.format.printf((i) => `${i.timestamp} ${i.level} ${i.message}`)),
    }));
  }
  transports.push(new winston.transports.Console({ level: 'error', stderrLevels: ['error'], format: winston.format.printf((i) => `tvisor: ${i.message}`) }));
  return winston.createLogger({ level: 'debug', transports });
}

/** createStraceLogger prints strace lines to stderr, as strace does. */
export function createStraceLogger(): Logger {
  return winston.createLogger({
    level: 'info',
    transports: [new winston.transports.Console({ stderrLevels: ['info'], format: winston.format.printf((i) => String(i.message)) })],
  });
}

/**
 * closeLogger ends a logger and resolves once every transport has written
 * everything: the logger's own 'finish' comes before its transports'.
 */
export async function closeLogger(l: Logger): Promise<void> {
  const transports = [...l.transports];
  const done = transports.map((t) => new Promise<void>((resolve) => {
    if ((t as unknown as { writableFinished?: boolean }).writableFinished) resolve();
    else t.once('finish', () => resolve());
  }));
  l.end();
  await Promise.all(done);
}
