// index.ts fills the syscall table from every subsystem's file.
import { register as creds } from './creds.js';
import { register as epoll } from './epoll.js';
import { register as eventfd } from './eventfd.js';
import { register as file } from './file.js';
import { register as fork } from './fork.js';
import { register as fs } from './fs.js';
import { register as futex } from './futex.js';
import { register as inotify } from './inotify.js';
import { register as memfd } from './memfd.js';
import { register as mm } from './mm.js';
import { register as pipe } from './pipe.js';
import { register as poll } from './poll.js';
import { register as process } from './process.js';
import { register as signal } from './signal.js';
import { register as signalfd } from './signalfd.js';
import { register as socket } from './socket.js';
import { register as time } from './time.js';
import { register as timerfd } from './timerfd.js';

export function registerAll(): void {
  creds();
  epoll();
  eventfd();
  file();
  fork();
  fs();
  futex();
  inotify();
  memfd();
  mm();
  pipe();
  poll();
  process();
  signal();
  signalfd();
  socket();
  time();
  timerfd();
}
