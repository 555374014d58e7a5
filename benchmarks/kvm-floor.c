// kvm-floor measures the floor cost of one system call on tvisor's kvm
// platform: the very guest path the platform drives (ring-3 program, GDT,
// TSS, IDT and page tables laid out as kvm-platform/abi.ts says, the real
// guest stub from dist/guest-stub/guest-stub.bin), served by a host loop in
// C that does only what the Sentry must do (read the number, make the real
// host call, write RIP/RFLAGS/CS/SS back through sync regs). No JavaScript
// is involved, so tvisor's own cost per system call is its figure minus
// this one.
//
// Usage: kvm-floor [--json] [--stub PATH] [N]   (N defaults to 20000)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

#define MEM_SIZE (64ull << 20)
#define KVIRT(phys) ((uint64_t)KERNEL_VIRT_BASE + (uint64_t)(phys))

#define USER_CODE 0x400000ull
#define USER_STACK 0x7fff0000ull

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_CSTAR 0xc0000083u
#define MSR_SFMASK 0xc0000084u
#define MSR_KERNEL_GS_BASE 0xc0000102u

// RFLAGS bits a program may set (CF PF AF ZF SF TF DF OF AC ID); the host
// forces bit 1 and IF and drops the rest (IOPL, NT, RF, VM...), as sysret
// would after a kernel's checks.
#define RFLAGS_USER_MASK 0x240dd5ull
#define RFLAGS_FIXED 0x202ull

#define SYS_GETPPID 110
#define SYS_EXIT 60

static uint8_t *mem;           // the memory file, guest-physical 0 at offset 0
static uint64_t next_frame = KERNEL_RESERVED;

static void die(const char *what) {
  fprintf(stderr, "kvm-floor: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void fail(const char *msg) {
  fprintf(stderr, "kvm-floor: %s\n", msg);
  exit(1);
}

static uint64_t *table(uint64_t phys) { return (uint64_t *)(mem + phys); }

static uint64_t alloc_frame(void) {
  uint64_t f = next_frame;
  next_frame += PAGE_SIZE;
  memset(mem + f, 0, PAGE_SIZE);
  return f;
}

// map_user_page maps one page of the program at virt in the address space
// rooted at pml4, creating the intermediate tables (user, writable).
static void map_user_page(uint64_t pml4, uint64_t virt, uint64_t phys, uint64_t flags) {
  uint64_t t = pml4;
  for (int shift = 39; shift > 12; shift -= 9) {
    uint64_t *e = &table(t)[(virt >> shift) & 511];
    if (!(*e & PTE_P)) *e = alloc_frame() | PTE_P | PTE_W | PTE_U;
    t = *e & PTE_ADDR;
  }
  table(t)[(virt >> 12) & 511] = phys | flags;
}

static void set_gdt_entry(int index, uint64_t descriptor) {
  table(PHYS_GDT)[index] = descriptor;
}

// set_gate writes IDT entry v: a 64-bit interrupt gate into the stub.
static void set_gate(int v, uint64_t target, uint8_t type_attr, uint8_t ist) {
  uint64_t *g = (uint64_t *)(mem + PHYS_IDT + v * 16);
  g[0] = (target & 0xffff) | ((uint64_t)SEL_KERNEL_CS << 16) | ((uint64_t)ist << 32) |
         ((uint64_t)type_attr << 40) | (((target >> 16) & 0xffff) << 48);
  g[1] = target >> 32;
}

struct stub_header {
  uint32_t magic, version, syscall_entry, vectors, unexpected;
};

static struct stub_header load_stub(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "kvm-floor: cannot open the guest stub %s: %s (run npm run build)\n",
            path, strerror(errno));
    exit(1);
  }
  ssize_t n = read(fd, mem + PHYS_STUB, STUB_MAX_SIZE + 1);
  if (n < 0) die("read(guest stub)");
  close(fd);
  if (n > STUB_MAX_SIZE) fail("guest stub is larger than STUB_MAX_SIZE");
  if ((size_t)n < sizeof(struct stub_header)) fail("guest stub is shorter than its header");
  struct stub_header h;
  memcpy(&h, mem + PHYS_STUB, sizeof h);
  if (h.magic != STUB_MAGIC) fail("guest stub has a bad magic (not a tvisor stub)");
  if (h.version != ABI_VERSION) {
    fprintf(stderr, "kvm-floor: guest stub ABI version %u, expected %u (rebuild it)\n", h.version,
            ABI_VERSION);
    exit(1);
  }
  if (h.syscall_entry >= n || h.vectors + 32 * STUB_VECTOR_STRIDE > (uint32_t)n ||
      h.unexpected >= n)
    fail("guest stub header points outside the stub");
  return h;
}

// layout_kernel_area writes the GDT, TSS, IDT, stub and kernel page tables
// into the reserved area, exactly as kvm-platform/abi.ts lays them out.
static struct stub_header layout_kernel_area(const char *stub_path) {
  struct stub_header h = load_stub(stub_path);

  set_gdt_entry(SEL_KERNEL_CS >> 3, 0x00af9b000000ffffull);  // kernel CS, 64-bit, DPL 0
  set_gdt_entry(SEL_KERNEL_DS >> 3, 0x00cf93000000ffffull);  // kernel DS
  set_gdt_entry(SEL_USER_CS32 >> 3, 0x00cffb000000ffffull);  // user CS, 32-bit, DPL 3
  set_gdt_entry(SEL_USER_DS >> 3, 0x00cff3000000ffffull);    // user DS, DPL 3
  set_gdt_entry(SEL_USER_CS >> 3, 0x00affb000000ffffull);    // user CS, 64-bit, DPL 3
  uint64_t tss = KVIRT(PHYS_TSS);
  set_gdt_entry(SEL_TSS >> 3, 0x67 | ((tss & 0xffffff) << 16) | (0x8bull << 40) |
                                  (((tss >> 24) & 0xff) << 56));  // busy 64-bit TSS
  set_gdt_entry((SEL_TSS >> 3) + 1, tss >> 32);

  uint8_t *t = mem + PHYS_TSS;
  memset(t, 0, 0x68);
  uint64_t rsp0 = KVIRT(PHYS_STACK0_TOP), ist1 = KVIRT(PHYS_STACK_IST1_TOP);
  memcpy(t + 4, &rsp0, 8);     // RSP0: entry from ring 3
  memcpy(t + 36, &ist1, 8);    // IST1: NMI and double fault
  uint16_t iomap = 0x68;       // no I/O permission bitmap
  memcpy(t + 102, &iomap, 2);

  for (int v = 0; v < 256; v++) {
    uint64_t target = v < 32 ? KVIRT(PHYS_STUB + h.vectors + v * STUB_VECTOR_STRIDE)
                             : KVIRT(PHYS_STUB + h.unexpected);
    uint8_t type_attr = (v == 3 || v == 4) ? 0xee : 0x8e;  // int3/into allowed from ring 3
    uint8_t ist = (v == 2 || v == 8) ? 1 : 0;
    set_gate(v, target, type_attr, ist);
  }

  // The kernel area, supervisor-only, at KERNEL_VIRT_BASE: PD[0] -> PT. Page
  // 0 stays unmapped, the page tables read-only, and only the stub
  // executable. Each address space links the PD from its own PDPT.
  memset(mem + PHYS_KERNEL_PD, 0, PAGE_SIZE);
  memset(mem + PHYS_KERNEL_PT, 0, PAGE_SIZE);
  table(PHYS_KERNEL_PD)[0] = PHYS_KERNEL_PT | PTE_P | PTE_W;
  for (uint64_t p = PAGE_SIZE; p < KERNEL_RESERVED; p += PAGE_SIZE) {
    int stub = p >= PHYS_STUB && p < PHYS_STUB + STUB_MAX_SIZE;
    int pt = p >= PHYS_KERNEL_PD && p <= PHYS_KERNEL_PT;
    uint64_t flags = PTE_P | (stub || pt ? 0 : PTE_W) | (stub ? 0 : PTE_NX);
    table(PHYS_KERNEL_PT)[p / PAGE_SIZE] = p | flags;
  }
  return h;
}

static void set_user_segment(struct kvm_segment *s, uint16_t selector, int code) {
  memset(s, 0, sizeof *s);
  s->selector = selector;
  s->base = 0;
  s->limit = 0xffffffff;
  s->type = code ? 11 : 3;  // execute/read accessed, or read/write accessed
  s->present = 1;
  s->dpl = 3;
  s->db = code ? 0 : 1;
  s->s = 1;
  s->l = code ? 1 : 0;
  s->g = 1;
}

static void setup_sregs(int vcpu, uint64_t pml4) {
  struct kvm_sregs sr;
  if (ioctl(vcpu, KVM_GET_SREGS, &sr) < 0) die("KVM_GET_SREGS");
  sr.cr0 = 0x80050033;  // PE MP ET NE WP AM PG
  sr.cr3 = pml4;
  sr.cr4 = 0x620;       // PAE OSFXSR OSXMMEXCPT
  sr.efer = 0xd01;      // SCE LME LMA NXE
  set_user_segment(&sr.cs, SEL_USER_CS, 1);
  set_user_segment(&sr.ss, SEL_USER_DS, 0);
  set_user_segment(&sr.ds, 0, 0);
  set_user_segment(&sr.es, 0, 0);
  set_user_segment(&sr.fs, 0, 0);
  set_user_segment(&sr.gs, 0, 0);
  memset(&sr.tr, 0, sizeof sr.tr);
  sr.tr.selector = SEL_TSS;
  sr.tr.base = KVIRT(PHYS_TSS);
  sr.tr.limit = 0x67;
  sr.tr.type = 11;
  sr.tr.present = 1;
  memset(&sr.ldt, 0, sizeof sr.ldt);
  sr.ldt.unusable = 1;
  sr.gdt.base = KVIRT(PHYS_GDT);
  sr.gdt.limit = ((SEL_TSS >> 3) + 2) * 8 - 1;
  sr.idt.base = KVIRT(PHYS_IDT);
  sr.idt.limit = 256 * 16 - 1;
  if (ioctl(vcpu, KVM_SET_SREGS, &sr) < 0) die("KVM_SET_SREGS");
}

static void setup_msrs(int vcpu, const struct stub_header *h) {
  struct {
    struct kvm_msrs hdr;
    struct kvm_msr_entry e[5];
  } m;
  memset(&m, 0, sizeof m);
  uint64_t entry = KVIRT(PHYS_STUB + h->syscall_entry);
  m.e[0].index = MSR_STAR;
  m.e[0].data = ((uint64_t)SEL_USER_CS32 << 48) | ((uint64_t)SEL_KERNEL_CS << 32);
  m.e[1].index = MSR_LSTAR;
  m.e[1].data = entry;
  m.e[2].index = MSR_CSTAR;
  m.e[2].data = entry;
  m.e[3].index = MSR_SFMASK;
  m.e[3].data = 0x47700;  // TF DF IF IOPL NT AC
  m.e[4].index = MSR_KERNEL_GS_BASE;
  m.e[4].data = 0;
  m.hdr.nmsrs = 5;
  int r = ioctl(vcpu, KVM_SET_MSRS, &m);
  if (r < 0) die("KVM_SET_MSRS");
  if (r != 5) {
    fprintf(stderr, "kvm-floor: KVM_SET_MSRS set %d of 5 MSRs; MSR 0x%x refused\n", r,
            m.e[r].index);
    exit(1);
  }
}

static void setup_cpuid(int kvm, int vcpu) {
  for (uint32_t max = 64;; max *= 2) {
    struct kvm_cpuid2 *c = calloc(1, sizeof *c + max * sizeof(struct kvm_cpuid_entry2));
    if (!c) die("calloc");
    c->nent = max;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0) {
      free(c);
      if (errno == E2BIG && max < 4096) continue;
      die("KVM_GET_SUPPORTED_CPUID");
    }
    if (ioctl(vcpu, KVM_SET_CPUID2, c) < 0) die("KVM_SET_CPUID2");
    free(c);
    return;
  }
}

// The program: N getppid() calls, then exit. The push and pop fault unless
// the host gave the program its own stack back.
static const uint8_t guest_code[] = {
    0xb8, 0x6e, 0x00, 0x00, 0x00,  // loop: mov $110, %eax  (getppid)
    0x0f, 0x05,                    //       syscall
    0x50,                          //       push %rax
    0x58,                          //       pop %rax
    0x48, 0xff, 0xcb,              //       dec %rbx
    0x75, 0xf2,                    //       jnz loop
    0xb8, 0x3c, 0x00, 0x00, 0x00,  //       mov $60, %eax   (exit)
    0x0f, 0x05,                    //       syscall
    0x0f, 0x0b,                    //       ud2             (exit must not return)
};

static const char *exit_reason_name(uint32_t r) {
  switch (r) {
    case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN (triple fault)";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
    case KVM_EXIT_IO: return "KVM_EXIT_IO";
    default: return "exit";
  }
}

static int has_error_code(int v) {
  return v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17 ||
         v == 21 || v == 29 || v == 30;
}

// An exception frame on the ring-0 stack, as the CPU pushed it for a vector
// with an error code.
enum { FRAME_ERROR, FRAME_RIP, FRAME_CS, FRAME_RFLAGS, FRAME_RSP, FRAME_SS, FRAME_WORDS };

// fault_frame returns the frame at the exit's RSP, or NULL when RSP is not
// on a stack in the kernel area.
static const uint64_t *fault_frame(const struct kvm_regs *r) {
  if (r->rsp < KERNEL_VIRT_BASE || r->rsp - KERNEL_VIRT_BASE + FRAME_WORDS * 8 > KERNEL_RESERVED)
    return NULL;
  return (const uint64_t *)(mem + (r->rsp - KERNEL_VIRT_BASE));
}

// Syscalls by fault: on hardware KVM, `syscall` from ring 3 switches to
// CS = STAR[47:32] (CPL 0) and the stub's entry exits on PORT_SYSCALL. The
// PVM module on these hosts emulates `syscall` from ring 3 only partly: it
// saves RCX and R11, masks RFLAGS with SFMASK and jumps to LSTAR, but leaves
// CS, SS and the CPL at ring 3. Fetching the supervisor-only entry then
// raises #PF (error code P|U|I, CR2 = LSTAR), which the IDT delivers to the
// stub in ring 0 on the TSS.RSP0 stack, so the exit is PORT_EXCEPTION + 14
// and the program's RSP is in the exception frame. RCX, R11 and RAX still
// hold what `syscall` left, so the host answers it as a system call. A
// program that jumps to LSTAR itself gains nothing: it could as well have
// executed `syscall` with the same registers.
#define PF_USER (1u << 2)
#define PF_FETCH (1u << 4)

// report_exit prints what an unexpected exit says about the guest and exits.
static void report_exit(const struct kvm_run *run) {
  const struct kvm_regs *r = &run->s.regs.regs;
  const struct kvm_sregs *s = &run->s.regs.sregs;
  if (run->exit_reason == KVM_EXIT_IO && run->io.port >= PORT_EXCEPTION &&
      run->io.port < PORT_EXCEPTION + 32) {
    int v = run->io.port - PORT_EXCEPTION;
    const uint64_t *f = fault_frame(r);
    if (!f) {
      fprintf(stderr, "kvm-floor: guest exception vector %d with RSP 0x%llx off the ring-0 stacks\n", v,
              (unsigned long long)r->rsp);
      exit(1);
    }
    // Without an error code, the frame starts at RSP with RIP.
    int e = has_error_code(v);
    if (!e) f--;
    fprintf(stderr, "kvm-floor: guest exception vector %d", v);
    if (e) fprintf(stderr, " error code 0x%llx", (unsigned long long)f[FRAME_ERROR]);
    fprintf(stderr, " at RIP 0x%llx, CS 0x%llx, RFLAGS 0x%llx, RSP 0x%llx, CR2 0x%llx\n",
            (unsigned long long)f[FRAME_RIP], (unsigned long long)f[FRAME_CS],
            (unsigned long long)f[FRAME_RFLAGS], (unsigned long long)f[FRAME_RSP],
            (unsigned long long)s->cr2);
    exit(1);
  }
  fprintf(stderr, "kvm-floor: unexpected %s (reason %u) at RIP 0x%llx, CS 0x%x, CR2 0x%llx",
          exit_reason_name(run->exit_reason), run->exit_reason, (unsigned long long)r->rip,
          s->cs.selector, (unsigned long long)s->cr2);
  switch (run->exit_reason) {
    case KVM_EXIT_IO:
      fprintf(stderr, ", port 0x%x %s", run->io.port,
              run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in");
      break;
    case KVM_EXIT_FAIL_ENTRY:
      fprintf(stderr, ", hardware entry failure reason 0x%llx",
              (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
      break;
    case KVM_EXIT_INTERNAL_ERROR:
      fprintf(stderr, ", suberror %u", run->internal.suberror);
      for (uint32_t i = 0; i < run->internal.ndata && i < 16; i++)
        fprintf(stderr, " 0x%llx", (unsigned long long)run->internal.data[i]);
      break;
    default:
      break;
  }
  fprintf(stderr, "\n");
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// default_stub_path finds dist/guest-stub/guest-stub.bin from benchmarks/bin/kvm-floor.
static void default_stub_path(char *out, size_t size) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n < 0) die("readlink(/proc/self/exe)");
  exe[n] = 0;
  snprintf(out, size, "%s/../../dist/guest-stub/guest-stub.bin", dirname(exe));
}

int main(int argc, char **argv) {
  int json = 0;
  long n = 20000;
  char stub_path[PATH_MAX];
  default_stub_path(stub_path, sizeof stub_path);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) {
      json = 1;
    } else if (strcmp(argv[i], "--stub") == 0 && i + 1 < argc) {
      snprintf(stub_path, sizeof stub_path, "%s", argv[++i]);
    } else {
      char *end;
      n = strtol(argv[i], &end, 10);
      if (*end || n <= 0) {
        fprintf(stderr, "usage: kvm-floor [--json] [--stub PATH] [N]\n");
        return 2;
      }
    }
  }

  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("open(/dev/kvm)");
  if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) fail("unexpected KVM API version");
  int sync = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
  if (sync < 0 || (sync & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) !=
                      (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS))
    fail("KVM_CAP_SYNC_REGS lacks regs/sregs");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) die("KVM_CREATE_VM");

  int memfd = memfd_create("kvm-floor", MFD_CLOEXEC);
  if (memfd < 0) die("memfd_create");
  if (ftruncate(memfd, MEM_SIZE) < 0) die("ftruncate(memfd)");
  mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (mem == MAP_FAILED) die("mmap(memfd)");
  struct kvm_userspace_memory_region region = {
      .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)mem};
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");

  struct stub_header h = layout_kernel_area(stub_path);

  // The program's address space. The kernel area shares the last PML4 slot
  // of the lower half with the program (whose stack lives there on Linux),
  // so the PML4 entry is a user one and the PDPT entry is supervisor-only.
  uint64_t pml4 = alloc_frame(), pdpt = alloc_frame();
  table(pml4)[KERNEL_PML4_INDEX] = pdpt | PTE_P | PTE_W | PTE_U;
  table(pdpt)[KERNEL_PDPT_INDEX] = PHYS_KERNEL_PD | PTE_P | PTE_W;
  uint64_t code = alloc_frame(), stack = alloc_frame();
  memcpy(mem + code, guest_code, sizeof guest_code);
  map_user_page(pml4, USER_CODE, code, PTE_P | PTE_U);
  map_user_page(pml4, USER_STACK, stack, PTE_P | PTE_W | PTE_U | PTE_NX);

  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) die("KVM_CREATE_VCPU");
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < 0) die("KVM_GET_VCPU_MMAP_SIZE");
  struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED) die("mmap(kvm_run)");

  setup_cpuid(kvm, vcpu);
  setup_sregs(vcpu, pml4);
  setup_msrs(vcpu, &h);
  struct kvm_regs regs = {0};
  regs.rip = USER_CODE;
  regs.rsp = USER_STACK + PAGE_SIZE;
  regs.rflags = RFLAGS_FIXED;
  regs.rbx = (uint64_t)n;
  if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");

  struct kvm_segment user_cs, user_ss;
  set_user_segment(&user_cs, SEL_USER_CS, 1);
  set_user_segment(&user_ss, SEL_USER_DS, 0);
  struct kvm_regs *r = &run->s.regs.regs;
  struct kvm_sregs *s = &run->s.regs.sregs;
  run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;

  uint64_t lstar = KVIRT(PHYS_STUB + h.syscall_entry);
  long calls = 0, via_fault = 0;
  uint64_t start = now_ns();
  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      die("KVM_RUN");
    }
    if (run->exit_reason != KVM_EXIT_IO) report_exit(run);
    uint64_t user_rsp;
    if (run->io.port == PORT_SYSCALL) {
      user_rsp = r->rsp;  // syscall entered ring 0 and kept the program's stack
    } else if (run->io.port == PORT_EXCEPTION + 14 && s->cr2 == lstar) {
      const uint64_t *f = fault_frame(r);
      if (!f || f[FRAME_RIP] != lstar || (f[FRAME_CS] & 3) != 3 ||
          (f[FRAME_ERROR] & (PF_USER | PF_FETCH)) != (PF_USER | PF_FETCH))
        report_exit(run);
      user_rsp = f[FRAME_RSP];  // see "Syscalls by fault" above
      via_fault++;
    } else {
      report_exit(run);
    }
    uint64_t nr = r->rax;
    if (nr == SYS_EXIT) break;
    if (nr != SYS_GETPPID) {
      fprintf(stderr, "kvm-floor: unexpected system call %llu from RIP 0x%llx\n",
              (unsigned long long)nr, (unsigned long long)r->rcx);
      return 1;
    }
    r->rax = (uint64_t)getppid();
    r->rip = r->rcx;
    r->rsp = user_rsp;
    r->rflags = (r->r11 & RFLAGS_USER_MASK) | RFLAGS_FIXED;
    s->cs = user_cs;
    s->ss = user_ss;
    run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    calls++;
  }
  uint64_t elapsed = now_ns() - start;
  if (calls != n) {
    fprintf(stderr, "kvm-floor: the guest made %ld getppid calls, expected %ld\n", calls, n);
    return 1;
  }
  double per_op = (double)elapsed / (double)n;
  if (!json && via_fault)
    fprintf(stderr,
            "kvm-floor: note: syscall did not enter ring 0 on this host (PVM); %ld of %ld reached "
            "the stub as a page fault at LSTAR\n",
            via_fault, calls + 1);
  if (json)
    printf("%.0f\n", per_op);
  else
    printf("kvm-floor: %ld syscalls, %.0f ns/op\n", n, per_op);
  return 0;
}
