/* libplug: the shared library that dlopen_test loads (built by
 * scripts/build-guests.sh as bin/libplug.so, with gcc -shared -fPIC; not a
 * guest of its own). A constructor counts its loads, and a destructor
 * writes to the flag its user named, so the user can see it unloaded. */
static int loads;
static int *unload_flag;

__attribute__((constructor)) static void plug_init(void)
{
	loads++;
}

__attribute__((destructor)) static void plug_fini(void)
{
	if (unload_flag)
		*unload_flag = 1;
}

int plug_loads(void)
{
	return loads;
}

int plug_add(int a, int b)
{
	return a + b;
}

const char *plug_name(void)
{
	return "plug";
}

void plug_on_unload(int *flag)
{
	unload_flag = flag;
}
