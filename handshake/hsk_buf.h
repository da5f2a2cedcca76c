/* Bounds-checked reader and writer for wire formats.
 *
 * The reader {cur, end} is used only through these accessors: every read
 * checks what is left and fails with decode_error, and decoded values are
 * views into the input, never copies. hsk_rd_vec() narrows to a
 * length-prefixed block (TLS "<min..max>" vectors) and hsk_rd_end() fails
 * unless a block was consumed exactly.
 *
 * The writer keeps a sticky error: writes past the capacity set err and are
 * dropped, so a message builder checks w->err once at the end. Length
 * prefixes are written by hsk_wr_open() and back-patched by hsk_wr_close().
 *
 * Everything here compiles as C and C++ (the tests include it). */
#ifndef HSK_BUF_H
#define HSK_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hsk_err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hsk_rd {
	const uint8_t *cur;
	const uint8_t *end;
};

static inline struct hsk_rd
hsk_rd_make(const uint8_t *p, size_t n)
{
	struct hsk_rd r;
	r.cur = p;
	r.end = p + n;
	return r;
}

static inline size_t
hsk_rd_left(const struct hsk_rd *r)
{
	return (size_t)(r->end - r->cur);
}

HSK_MUST_CHECK static inline hsk_err
hsk_rd_u8(struct hsk_rd *r, uint8_t *v)
{
	if (hsk_rd_left(r) < 1)
		return HSK_ALERT(HSK_AD_DECODE_ERROR);
	*v = r->cur[0];
	r->cur += 1;
	return HSK_OK;
}

HSK_MUST_CHECK static inline hsk_err
hsk_rd_u16(struct hsk_rd *r, uint16_t *v)
{
	if (hsk_rd_left(r) < 2)
		return HSK_ALERT(HSK_AD_DECODE_ERROR);
	*v = (uint16_t)((r->cur[0] << 8) | r->cur[1]);
	r->cur += 2;
	return HSK_OK;
}

HSK_MUST_CHECK static inline hsk_err
hsk_rd_u24(struct hsk_rd *r, uint32_t *v)
{
	if (hsk_rd_left(r) < 3)
		return HSK_ALERT(HSK_AD_DECODE_ERROR);
	*v = ((uint32_t)r->cur[0] << 16) | ((uint32_t)r->cur[1] << 8) | r->cur[2];
	r->cur += 3;
	return HSK_OK;
}

HSK_MUST_CHECK static inline hsk_err
hsk_rd_u32(struct hsk_rd *r, uint32_t *v)
{
	if (hsk_rd_left(r) < 4)
		return HSK_ALERT(HSK_AD_DECODE_ERROR);
	*v = ((uint32_t)r->cur[0] << 24) | ((uint32_t)r->cur[1] << 16) |
	     ((uint32_t)r->cur[2] << 8) | r->cur[3];
	r->cur += 4;
	return HSK_OK;
}

/* A view of the next n bytes. */
HSK_MUST_CHECK static inline hsk_err
hsk_rd_bytes(struct hsk_rd *r, size_t n, const uint8_t **p)
{
	if (hsk_rd_left(r) < n)
		return HSK_ALERT(HSK_AD_DECODE_ERROR);
	*p = r->cur;
	r->cur += n;
	return HSK_OK;
}

/* A vector with a lenbytes-byte (1, 2 or 3) length prefix whose length must
 * lie in [min, max]; sub reads exactly its contents. */
HSK_MUST_CHECK static inline hsk_err
hsk_rd_vec(struct hsk_rd *r, int lenbytes, size_t min, size_t max, struct hsk_rd *sub)
{
	size_t n = 0;
	if (lenbytes < 1 || lenbytes > 3 || hsk_rd_left(r) < (size_t)lenbytes)
		return HSK_ALERT(HSK_AD_DECODE_ERROR);
	for (int i = 0; i < lenbytes; i++)
		n = (n << 8) | r->cur[i];
	if (n < min || n > max || hsk_rd_left(r) - (size_t)lenbytes < n)
		return HSK_ALERT(HSK_AD_DECODE_ERROR);
	sub->cur = r->cur + lenbytes;
	sub->end = sub->cur + n;
	r->cur = sub->end;
	return HSK_OK;
}

HSK_MUST_CHECK static inline hsk_err
hsk_rd_end(const struct hsk_rd *r)
{
	return r->cur == r->end ? HSK_OK : HSK_ALERT(HSK_AD_DECODE_ERROR);
}

struct hsk_wr {
	uint8_t *base;
	size_t cap;
	size_t len;
	int err; /* sticky: set by any write that did not fit */
};

static inline void
hsk_wr_init(struct hsk_wr *w, uint8_t *buf, size_t cap)
{
	w->base = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
}

/* Room for n more bytes, or NULL (and err set). */
static inline uint8_t *
hsk_wr_reserve(struct hsk_wr *w, size_t n)
{
	if (w->err || w->cap - w->len < n) {
		w->err = 1;
		return NULL;
	}
	uint8_t *p = w->base + w->len;
	w->len += n;
	return p;
}

static inline void
hsk_wr_u8(struct hsk_wr *w, uint8_t v)
{
	uint8_t *p = hsk_wr_reserve(w, 1);
	if (p)
		p[0] = v;
}

static inline void
hsk_wr_u16(struct hsk_wr *w, uint16_t v)
{
	uint8_t *p = hsk_wr_reserve(w, 2);
	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

static inline void
hsk_wr_u24(struct hsk_wr *w, uint32_t v)
{
	uint8_t *p = hsk_wr_reserve(w, 3);
	if (p) {
		p[0] = (uint8_t)(v >> 16);
		p[1] = (uint8_t)(v >> 8);
		p[2] = (uint8_t)v;
	}
}

static inline void
hsk_wr_u32(struct hsk_wr *w, uint32_t v)
{
	uint8_t *p = hsk_wr_reserve(w, 4);
	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

static inline void
hsk_wr_bytes(struct hsk_wr *w, const void *src, size_t n)
{
	uint8_t *p = hsk_wr_reserve(w, n);
	if (p && n)
		memcpy(p, src, n);
}

/* Start a vector with a lenbytes-byte length prefix; returns the offset of
 * the prefix for hsk_wr_close(). */
static inline size_t
hsk_wr_open(struct hsk_wr *w, int lenbytes)
{
	size_t at = w->len;
	(void)hsk_wr_reserve(w, (size_t)lenbytes);
	return at;
}

/* Back-patch the length prefix opened at 'at'; err if it does not fit. */
static inline void
hsk_wr_close(struct hsk_wr *w, size_t at, int lenbytes)
{
	if (w->err)
		return;
	size_t n = w->len - at - (size_t)lenbytes;
	if (lenbytes < 3 && n >> (8 * lenbytes)) {
		w->err = 1;
		return;
	}
	if (n >> 24) {
		w->err = 1;
		return;
	}
	for (int i = lenbytes - 1; i >= 0; i--) {
		w->base[at + (size_t)i] = (uint8_t)n;
		n >>= 8;
	}
}

#ifdef __cplusplus
}
#endif
#endif
