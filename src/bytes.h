/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bounds-checked big-endian reads, in the spirit of tcpdump's extract.h.
 * A read past the end returns false and leaves *v untouched; callers turn that
 * into DECODE_TRUNCATED instead of reading memory they do not own. */
#ifndef RSTWATCH_BYTES_H
#define RSTWATCH_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bytes {
	const uint8_t *p;
	size_t len;
};

static inline bool bytes_has(const struct bytes *b, size_t off, size_t n)
{
	return off <= b->len && n <= b->len - off;
}

static inline bool get_u8(const struct bytes *b, size_t off, uint8_t *v)
{
	if (!bytes_has(b, off, 1))
		return false;
	*v = b->p[off];
	return true;
}

static inline bool get_be16(const struct bytes *b, size_t off, uint16_t *v)
{
	if (!bytes_has(b, off, 2))
		return false;
	*v = (uint16_t)((b->p[off] << 8) | b->p[off + 1]);
	return true;
}

static inline bool get_be32(const struct bytes *b, size_t off, uint32_t *v)
{
	if (!bytes_has(b, off, 4))
		return false;
	*v = ((uint32_t)b->p[off] << 24) | ((uint32_t)b->p[off + 1] << 16) |
	     ((uint32_t)b->p[off + 2] << 8) | (uint32_t)b->p[off + 3];
	return true;
}

static inline bool get_le32(const struct bytes *b, size_t off, uint32_t *v)
{
	if (!bytes_has(b, off, 4))
		return false;
	*v = ((uint32_t)b->p[off + 3] << 24) | ((uint32_t)b->p[off + 2] << 16) |
	     ((uint32_t)b->p[off + 1] << 8) | (uint32_t)b->p[off];
	return true;
}

/* A view of n bytes at off, or false if they are not all there. */
static inline bool bytes_sub(const struct bytes *b, size_t off, size_t n, struct bytes *out)
{
	if (!bytes_has(b, off, n))
		return false;
	out->p = b->p + off;
	out->len = n;
	return true;
}

#endif
