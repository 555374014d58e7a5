/* dlopen(3) in a dynamically linked glibc program: loads the library whose
 * path is its argument (bin/libplug.so), calls its functions, looks up a
 * symbol it lacks (NULL, and dlerror says why), opens it a second time (the
 * same handle, no second load), and closes it twice (the destructor runs at
 * the last close); then opens a file that does not exist. Prints "ok NAME"
 * per check, then "all ok"; on the first failure prints "FAIL: NAME:
 * details" and exits 1.
 * Usage: dlopen_test PATH-OF-LIBPLUG */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

#include "guest.h"

/* sym is dlsym that fails unless name is found. */
static void *sym(void *handle, const char *name)
{
	void *p = dlsym(handle, name);
	if (!p)
		fail("dlsym %s: %s", name, dlerror());
	return p;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		fail("usage: dlopen_test PATH-OF-LIBPLUG");

	current = "dlopen by path";
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	CHECK(h, "dlopen %s: %s", argv[1], dlerror());
	ok();

	current = "calls into the library";
	int (*add)(int, int) = sym(h, "plug_add");
	const char *(*name)(void) = sym(h, "plug_name");
	int (*loads)(void) = sym(h, "plug_loads");
	expect_eq(add(40, 2), 42, "plug_add(40, 2)");
	CHECK(strcmp(name(), "plug") == 0, "plug_name() = \"%s\"", name());
	expect_eq(loads(), 1, "constructor runs");
	ok();

	current = "dlsym of a missing symbol";
	dlerror();
	CHECK(dlsym(h, "plug_missing") == 0, "dlsym found plug_missing");
	const char *err = dlerror();
	CHECK(err && strstr(err, "plug_missing"), "dlerror() = %s", err ? err : "(null)");
	CHECK(dlerror() == 0, "dlerror() is not cleared by reading it");
	ok();

	current = "a second dlopen shares the first";
	void *again = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
	CHECK(again == h, "RTLD_NOLOAD gave %p, expected %p", again, h);
	expect_eq(loads(), 1, "constructor runs after a second dlopen");
	ok();

	current = "dlclose unloads at the last close";
	static int unloaded;
	void (*on_unload)(int *) = sym(h, "plug_on_unload");
	on_unload(&unloaded);
	expect_eq(dlclose(again), 0, "first dlclose");
	expect_eq(unloaded, 0, "unloaded after the first of two closes");
	expect_eq(dlclose(h), 0, "second dlclose");
	expect_eq(unloaded, 1, "unloaded after the last close");
	CHECK(dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD) == 0, "still loaded after the last close");
	ok();

	current = "dlopen of a missing file";
	CHECK(dlopen("/nonexistent/libnothing.so", RTLD_NOW) == 0, "dlopen of a missing file worked");
	err = dlerror();
	CHECK(err && strcmp(err, "/nonexistent/libnothing.so: cannot open shared object file: No such file or directory") == 0,
	      "dlerror() = %s", err ? err : "(null)");
	ok();

	out("all ok\n");
	return 0;
}
