/* Session-ID cache: one shard per worker, seqlock per slot (hsk_sess.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hsk_sess.h"

struct hsk_sess_slot {
	atomic_uint seq;       /* odd while being written */
	struct hsk_sess s;
};

struct hsk_sess_shard {
	struct hsk_sess_slot *slots;
	size_t n;
	size_t next;           /* round-robin replacement (owner only) */
} __attribute__((aligned(64)));

struct hsk_sess_cache {
	unsigned n_shards;
	struct hsk_sess_shard shards[];
};

struct hsk_sess_cache *
hsk_sess_cache_new(unsigned n_shards, size_t capacity)
{
	struct hsk_sess_cache *c;
	size_t per;

	if (n_shards == 0 || n_shards > 256)
		return NULL;
	per = capacity / n_shards ? capacity / n_shards : 1;
	c = aligned_alloc(64, (sizeof(*c) + n_shards * sizeof(c->shards[0]) + 63) / 64 * 64);
	if (c == NULL)
		return NULL;
	c->n_shards = n_shards;
	for (unsigned i = 0; i < n_shards; i++) {
		c->shards[i].slots = calloc(per, sizeof(struct hsk_sess_slot));
		c->shards[i].n = per;
		c->shards[i].next = 0;
		if (c->shards[i].slots == NULL) {
			c->n_shards = i;
			hsk_sess_cache_free(c);
			return NULL;
		}
	}
	return c;
}

void
hsk_sess_cache_free(struct hsk_sess_cache *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n_shards; i++) {
		OPENSSL_cleanse(c->shards[i].slots, c->shards[i].n * sizeof(struct hsk_sess_slot));
		free(c->shards[i].slots);
	}
	free(c);
}

void
hsk_sess_id_new(unsigned worker, uint8_t id[HSK_SESS_ID_LEN])
{
	if (RAND_bytes(id, HSK_SESS_ID_LEN) != 1)
		memset(id, 0, HSK_SESS_ID_LEN); /* an all-zero id never matches a stored one */
	id[0] = (uint8_t)worker;
}

/* The slot index inside a shard: the id is random, so its bytes hash it. */
static size_t
hsk_sess_slot_of(const struct hsk_sess_shard *sh, const uint8_t *id)
{
	uint64_t h;

	memcpy(&h, id + 1, sizeof(h));
	return (size_t)(h % sh->n);
}

static void
hsk_sess_write(struct hsk_sess_slot *slot, const struct hsk_sess *s)
{
	unsigned q = atomic_load_explicit(&slot->seq, memory_order_relaxed);

	atomic_store_explicit(&slot->seq, q + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	if (s != NULL)
		slot->s = *s;
	else
		OPENSSL_cleanse(&slot->s, sizeof(slot->s));
	atomic_store_explicit(&slot->seq, q + 2, memory_order_release);
}

void
hsk_sess_cache_put(struct hsk_sess_cache *c, unsigned worker, const struct hsk_sess *s)
{
	struct hsk_sess_shard *sh;

	if (worker >= c->n_shards || s->id_len != HSK_SESS_ID_LEN || s->id[0] != worker)
		return;
	sh = &c->shards[worker];
	/* Direct-mapped by id: a colliding older entry is replaced (and its
	 * master secret overwritten), which bounds the size. */
	hsk_sess_write(&sh->slots[hsk_sess_slot_of(sh, s->id)], s);
}

bool
hsk_sess_cache_get(struct hsk_sess_cache *c, const uint8_t *id, size_t id_len, uint32_t ctx_id,
		   uint64_t now_s, struct hsk_sess *out)
{
	struct hsk_sess_shard *sh;
	struct hsk_sess_slot *slot;
	unsigned q1, q2;
	int tries;

	if (id_len != HSK_SESS_ID_LEN || id[0] >= c->n_shards)
		return false;
	sh = &c->shards[id[0]];
	slot = &sh->slots[hsk_sess_slot_of(sh, id)];
	for (tries = 0; tries < 8; tries++) {
		q1 = atomic_load_explicit(&slot->seq, memory_order_acquire);
		if (q1 & 1)
			continue;
		memcpy(out, &slot->s, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		q2 = atomic_load_explicit(&slot->seq, memory_order_relaxed);
		if (q1 == q2)
			break;
	}
	if (tries == 8 || out->id_len != HSK_SESS_ID_LEN ||
	    CRYPTO_memcmp(out->id, id, HSK_SESS_ID_LEN) != 0 || out->ctx_id != ctx_id ||
	    now_s < out->created_s || now_s - out->created_s >= out->lifetime_s) {
		hsk_sess_clear(out);
		return false;
	}
	return true;
}

void
hsk_sess_cache_remove(struct hsk_sess_cache *c, unsigned worker, const uint8_t *id, size_t id_len)
{
	struct hsk_sess_shard *sh;
	struct hsk_sess_slot *slot;

	if (worker >= c->n_shards || id_len != HSK_SESS_ID_LEN || id[0] != worker)
		return;
	sh = &c->shards[worker];
	slot = &sh->slots[hsk_sess_slot_of(sh, id)];
	if (memcmp(slot->s.id, id, HSK_SESS_ID_LEN) == 0)
		hsk_sess_write(slot, NULL);
}

void
hsk_sess_clear(struct hsk_sess *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}
