/* Busy loop forever without any system call; used with a run timeout. */
int main(void)
{
	volatile unsigned long n = 0;
	for (;;)
		n++;
	return 0;
}
