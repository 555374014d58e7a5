/* Helpers shared by the thread guests (thr_pthread.c, thr_fork.c): create,
 * lock and unlock, which fail() with the error's name unless the pthread
 * call succeeds (pthread functions return the error number, not -1).
 *
 * Only static inline functions: it is included, never built as a guest of
 * its own (scripts/build-guests.sh builds *.c and rebuilds every guest when
 * this file changes). Include it after guest.h, whose helpers it uses. */
#ifndef THR_H
#define THR_H

#include <pthread.h>

static inline void create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	int e = pthread_create(t, attr, fn, arg);
	if (e)
		fail("pthread_create: %s", errname(-e));
}

static inline void lock(pthread_mutex_t *m)
{
	int e = pthread_mutex_lock(m);
	if (e)
		fail("pthread_mutex_lock: %s", errname(-e));
}

static inline void unlock(pthread_mutex_t *m)
{
	int e = pthread_mutex_unlock(m);
	if (e)
		fail("pthread_mutex_unlock: %s", errname(-e));
}

#endif
