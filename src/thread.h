/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Threads of the daemon other than its main one. */
#ifndef RSTWATCH_THREAD_H
#define RSTWATCH_THREAD_H

#include <pthread.h>
#include <signal.h>

/* pthread_create, for a thread that takes none of the asynchronous signals:
 * SIGTERM, SIGINT and SIGHUP go to the main thread, whose sleep they end at
 * once, and a write to a pipe whose reader left fails with EPIPE instead of
 * raising SIGPIPE. Faults (SIGSEGV, ...) still reach the thread that made
 * them. Returns pthread_create's error number. */
static inline int thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	static const int async[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1,
				     SIGUSR2, SIGALRM };
	sigset_t set, was;
	unsigned i;
	int e;

	sigemptyset(&set);
	for (i = 0; i < sizeof(async) / sizeof(async[0]); i++)
		sigaddset(&set, async[i]);
	pthread_sigmask(SIG_BLOCK, &set, &was);
	e = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	return e;
}

#endif
