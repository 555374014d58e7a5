// credentials.ts: who a task is, as Linux's struct cred holds it: the real,
// effective, saved and filesystem user and group ids, the supplementary
// groups, and the capability sets. A sandbox is a user namespace of its
// own: its programs start as the identity the sandbox gives them, and uid
// 0 holds every capability there, which the rules of capabilities(7) take
// away as it becomes another user. Set-user-ID files are not honoured, so
// execve never raises a program's ids.

/** Capability numbers (capability.h) that the Sentry checks. */
export const CAP_CHOWN = 0, CAP_DAC_OVERRIDE = 1, CAP_DAC_READ_SEARCH = 2, CAP_FOWNER = 3, CAP_FSETID = 4,
  CAP_KILL = 5, CAP_SETGID = 6, CAP_SETUID = 7, CAP_SETPCAP = 8, CAP_LINUX_IMMUTABLE = 9, CAP_SYS_RESOURCE = 24,
  CAP_SYS_ADMIN = 21, CAP_MKNOD = 27, CAP_MAC_OVERRIDE = 32;
/** CAP_LAST_CAP is the highest capability Linux knows (CAP_CHECKPOINT_RESTORE). */
export const CAP_LAST_CAP = 40;

const bit = (cap: number) => 1n << BigInt(cap);
/** CAP_FULL is every capability. */
export const CAP_FULL = bit(CAP_LAST_CAP + 1) - 1n;
/** CAP_FS_SET are the capabilities that follow the filesystem uid between 0 and another uid. */
const CAP_FS_SET = bit(CAP_CHOWN) | bit(CAP_MKNOD) | bit(CAP_DAC_OVERRIDE) | bit(CAP_DAC_READ_SEARCH) |
  bit(CAP_FOWNER) | bit(CAP_FSETID) | bit(CAP_MAC_OVERRIDE) | bit(CAP_LINUX_IMMUTABLE);

/** NO_ID is (uid_t)-1: "leave it" to the set*id calls, and never a valid id. */
export const NO_ID = 0xffffffff;
/** NGROUPS_MAX bounds the supplementary groups. */
export const NGROUPS_MAX = 65536;

/** Identity is the user a sandbox runs its programs as. */
export interface Identity {
  uid: number;
  gid: number;
  groups: readonly number[];
}

/** CapSets are a task's capability sets, one bit per capability. */
export interface CapSets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

/**
 * Credentials are one task's. They are copied at fork and changed in
 * place by the set*id calls, which check their permission first.
 */
export class Credentials {
  uid: number;
  euid: number;
  suid: number;
  fsuid: number;
  gid: number;
  egid: number;
  sgid: number;
  fsgid: number;
  /** groups are the supplementary groups, sorted (setgroups sorts them, as Linux does). */
  groups: readonly number[];
  effective: bigint;
  permitted: bigint;
  inheritable = 0n;
  /** bounding limits what execve can grant (PR_CAPBSET_READ, PR_CAPBSET_DROP). */
  bounding = CAP_FULL;
  /** keepCaps is PR_SET_KEEPCAPS: leaving uid 0 keeps the permitted set; cleared by execve. */
  keepCaps = false;

  constructor(id: Identity) {
    this.uid = this.euid = this.suid = this.fsuid = id.uid;
    this.gid = this.egid = this.sgid = this.fsgid = id.gid;
    this.groups = [...id.groups].sort((a, b) => a - b);
    // The namespace's root holds every capability, as after execve.
    this.permitted = this.effective = id.uid === 0 ? CAP_FULL : 0n;
  }

  /** copy is a fork's copy. */
  copy(): Credentials {
    const c = Object.create(Credentials.prototype) as Credentials;
    return Object.assign(c, this);
  }

  /** capable says whether the effective set holds cap. */
  capable(cap: number): boolean {
    return (this.effective & bit(cap)) !== 0n;
  }

  /** inGroup says whether gid is the filesystem gid or a supplementary group (Linux's in_group_p). */
  inGroup(gid: number): boolean {
    return gid === this.fsgid || this.groups.includes(gid);
  }

  /** owner is who owns what the task creates: its filesystem ids. */
  get owner(): { uid: number; gid: number } {
    return { uid: this.fsuid, gid: this.fsgid };
  }

  /**
   * forAccess are the credentials access(2) checks with: the real ids in
   * the filesystem's place, and the capabilities of uid 0 only if the real
   * uid is 0.
   */
  forAccess(): Credentials {
    const c = this.copy();
    c.fsuid = this.uid;
    c.fsgid = this.gid;
    c.effective = this.uid === 0 ? this.permitted : 0n;
    return c;
  }

  /**
   * changedUids applies the capability rules for a change of user ids
   * (Linux's cap_emulate_setxuid): leaving uid 0 in all three of real,
   * effective and saved drops the permitted and effective sets (unless
   * keepCaps), an effective uid leaving 0 drops the effective set, and one
   * becoming 0 takes the permitted set back.
   */
  changedUids(old: { uid: number; euid: number; suid: number }): void {
    const wasRoot = old.uid === 0 || old.euid === 0 || old.suid === 0;
    const isRoot = this.uid === 0 || this.euid === 0 || this.suid === 0;
    if (wasRoot && !isRoot && !this.keepCaps) this.permitted = this.effective = 0n;
    if (old.euid === 0 && this.euid !== 0) this.effective = 0n;
    if (old.euid !== 0 && this.euid === 0) this.effective = this.permitted;
  }

  /** changedFsuid applies the capability rule for a new filesystem uid: the filesystem capabilities follow uid 0. */
  changedFsuid(oldFsuid: number): void {
    if (oldFsuid === 0 && this.fsuid !== 0) this.effective &= ~CAP_FS_SET;
    if (oldFsuid !== 0 && this.fsuid === 0) this.effective |= this.permitted & CAP_FS_SET;
  }

  /**
   * exec makes the credentials a new program runs with (execve of a file
   * with no set-user-ID bit or file capabilities): the saved and filesystem
   * ids become the effective ones; a real or effective uid 0 is granted the
   * bounding and inheritable sets, effective only for an effective uid 0;
   * any other user keeps no capability.
   */
  exec(): void {
    this.suid = this.fsuid = this.euid;
    this.sgid = this.fsgid = this.egid;
    this.permitted = this.uid === 0 || this.euid === 0 ? this.bounding | this.inheritable : 0n;
    this.effective = this.euid === 0 ? this.permitted : 0n;
    this.keepCaps = false;
  }

  /** secureExec is AT_SECURE after exec: the program runs as someone other than its real user. */
  get secureExec(): boolean {
    return this.euid !== this.uid || this.egid !== this.gid;
  }

  /**
   * mayKill is Linux's kill_ok_by_cred: the sender's real or effective
   * uid is the target's real or saved uid, or the sender holds CAP_KILL.
   */
  mayKill(target: Credentials): boolean {
    return this.euid === target.suid || this.euid === target.uid || this.uid === target.suid ||
      this.uid === target.uid || this.capable(CAP_KILL);
  }
}
