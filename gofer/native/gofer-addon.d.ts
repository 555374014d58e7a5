// gofer-addon.d.ts types the raw Gofer addon (gofer/native/gofer.cc), what
// the Sentry's side of the Gofer calls. Every call returns its result, or
// -errno when it fails.
export interface GoferAddon {
  /** futexWake wakes up to count sleepers on words[index] (a futex shared with the Gofer process). */
  futexWake(words: Int32Array, index: number, count: number): number;
}
