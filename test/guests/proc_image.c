/* Every exec of a program starts from the file's own bytes, however often
 * the same file ran before and whatever those runs wrote to their memory:
 * initialized data (several pages of it), zeroed data (bss) and code.
 * tvisor maps programs from a page cache that every process shares and
 * copies a page on its first write, so this checks that a write never
 * reaches the cache: each generation checks the initial values, writes
 * over all of them, forks a child that must see the writes (and a write
 * of the child's that the parent must not see), then re-executes itself
 * (/proc/self/exe), five generations deep. It also checks fork's copy on
 * write for a process too large for tvisor to copy its memory at fork
 * (8 MiB written): both sides write while both live, and neither sees the
 * other's writes. Prints "ok NAME" per check of the first generation,
 * then "all ok". */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

#define N 4096
static int counter = 42;
static int table[N] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, [N - 1] = 77};
static char zeroes[3 * 4096];

/* code_byte is the first byte of a function: code too must be the file's. */
static unsigned char code_byte(void) { return *(volatile unsigned char *)(void *)&code_byte; }

static void check_initial(void)
{
	current = "initialized data is the file's";
	expect_eq(counter, 42, "counter");
	for (int i = 0; i < N; i++) {
		long want = i < 10 ? i + 1 : i == N - 1 ? 77 : 0;
		CHECK(table[i] == want, "table[%d] = %d, want %ld", i, table[i], want);
	}
	ok();
	current = "zeroed data is zero";
	for (int i = 0; i < (int)sizeof zeroes; i++) CHECK(zeroes[i] == 0, "zeroes[%d] = %d", i, zeroes[i]);
	ok();
}

static void overwrite(void)
{
	counter = -1;
	for (int i = 0; i < N; i++) table[i] = -i;
	for (int i = 0; i < (int)sizeof zeroes; i++) zeroes[i] = 'z';
}

int main(int argc, char **argv)
{
	int generation = argc > 1 ? atoi(argv[1]) : 0;
	static unsigned char first_code;
	first_code = code_byte();
	check_initial();
	overwrite();

	current = "a child sees its parent's writes, and its own stay its own";
	pid_t pid = fork_ok();
	if (pid == 0) {
		CHECK(counter == -1 && table[N - 1] == -(N - 1) && zeroes[5] == 'z', "the child sees %d %d %d", counter, table[N - 1], zeroes[5]);
		counter = 1000;
		table[3] = 1000;
		child_exit(0);
	}
	expect_exited(pid, 0, "the child");
	expect_eq(counter, -1, "counter after the child wrote its own");
	expect_eq(table[3], -3, "table[3] after the child wrote its own");
	ok();

	current = "a large process's memory is copied on write, both ways";
	enum { BIG = 8 << 20, STEP = 4096 };
	unsigned char *big = malloc(BIG);
	CHECK(big != 0, "malloc");
	for (int i = 0; i < BIG; i += STEP) big[i] = (unsigned char)(i / STEP);
	int to_child[2], to_parent[2];
	pipe_ok(to_child, 0);
	pipe_ok(to_parent, 0);
	pid = fork_ok();
	if (pid == 0) {
		get(to_child[0]); /* the parent has written over the first half */
		for (int i = 0; i < BIG; i += STEP)
			CHECK(big[i] == (unsigned char)(i / STEP), "the child sees %d at %d", big[i], i);
		for (int i = BIG / 2; i < BIG; i += STEP) big[i] = 0xcc;
		put(to_parent[1], 'w');
		get(to_child[0]);
		for (int i = 0; i < BIG; i += STEP)
			CHECK(big[i] == (i < BIG / 2 ? (unsigned char)(i / STEP) : 0xcc), "the child's own writes: %d at %d", big[i], i);
		child_exit(0);
	}
	for (int i = 0; i < BIG / 2; i += STEP) big[i] = 0xaa;
	put(to_child[1], 'p');
	expect_eq(get(to_parent[0]), 'w', "the child wrote over the second half");
	for (int i = 0; i < BIG; i += STEP)
		CHECK(big[i] == (i < BIG / 2 ? 0xaa : (unsigned char)(i / STEP)), "the parent sees %d at %d", big[i], i);
	put(to_child[1], 'c');
	expect_exited(pid, 0, "the child's checks");
	for (int i = 0; i < BIG; i += STEP) big[i] = 0x11;
	CHECK(big[BIG - STEP] == 0x11, "the parent writes after the child is gone");
	free(big);
	ok();

	current = "code is the file's";
	expect_eq(code_byte(), first_code, "the first byte of a function");
	ok();

	if (generation < 5) {
		current = "the next generation";
		char next[16];
		snprintf(next, sizeof next, "%d", generation + 1);
		pid = fork_ok();
		if (pid == 0) {
			/* Its output would repeat ours: only its status counts. */
			int devnull = open("/dev/null", 1);
			dup2(devnull, 1);
			execl("/proc/self/exe", "proc_image", next, (char *)0);
			child_exit(99);
		}
		expect_exited(pid, 0, "the next generation's checks");
		ok();
	}
	out("all ok\n");
	return 0;
}
