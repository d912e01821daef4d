/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test inputs placed right before a PROT_NONE page (picohttpparser's trick):
 * a read one byte past the input faults at once, under any build. Include
 * after <cmocka.h>. */
#ifndef RSTWATCH_TEST_GUARD_H
#define RSTWATCH_TEST_GUARD_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guarded {
	uint8_t *map;
	size_t map_len;
	const uint8_t *data;	/* the copy; its last byte touches the guard page */
};

static void guard_put(struct guarded *g, const uint8_t *src, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + page - 1) / page;
	uint8_t *guard;

	g->map_len = (data_pages + 1) * page;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	guard = g->map + data_pages * page;
	assert_int_equal(mprotect(guard, page, PROT_NONE), 0);
	if (len)
		memcpy(guard - len, src, len);
	/* Read-only too: a parser must not write into its input either. */
	if (data_pages)
		assert_int_equal(mprotect(g->map, data_pages * page, PROT_READ), 0);
	g->data = guard - len;
}

static void guard_free(struct guarded *g)
{
	munmap(g->map, g->map_len);
}

#endif
