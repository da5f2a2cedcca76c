/* SYN cookies (ns_tcp_priv.h): when the half-open table is full, the
 * SYN-ACK's initial sequence number carries the connection instead of a
 * table slot, and the final ACK brings it back. The 32 bits: a 5-bit time
 * slot (64 s each; the current and the previous one are accepted), a
 * 3-bit index into a table of MSS values, and 24 bits of SHA-256 over a
 * per-worker random key, the 4-tuple, the peer's ISN and the slot. No
 * window scaling on such a connection (the SYN-ACK offers none). */
#include <string.h>
#include <sys/random.h>

#include <openssl/sha.h>

#include "ns_tcp_priv.h"

static const uint16_t ns_tcp_cookie_mss[8] = { 536, 1220, 1300, 1360, 1400, 1440, 1452, 1460 };

int
ns_tcp_cookie_init(struct ns_tcp *t)
{
	return getrandom(t->cookie_key, sizeof(t->cookie_key), 0) == (ssize_t)sizeof(t->cookie_key) ? 0 : -1;
}

static uint32_t
ns_tcp_cookie_hash(const struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport,
		   uint32_t irs, uint32_t slot)
{
	uint8_t in[16 + 4 + 4 + 2 + 2 + 4 + 1], md[SHA256_DIGEST_LENGTH];
	uint32_t h;

	memcpy(in, t->cookie_key, 16);
	memcpy(in + 16, &laddr, 4);
	memcpy(in + 20, &raddr, 4);
	memcpy(in + 24, &lport, 2);
	memcpy(in + 26, &rport, 2);
	memcpy(in + 28, &irs, 4);
	in[32] = (uint8_t)slot;
	SHA256(in, sizeof(in), md);
	h = (uint32_t)md[0] << 16 | (uint32_t)md[1] << 8 | md[2];
	return h;
}

uint32_t
ns_tcp_cookie_make(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport, uint32_t irs,
		   uint16_t mss, uint64_t now_ms)
{
	uint32_t slot = (uint32_t)(now_ms >> 16) & 31, m = 0;

	for (uint32_t i = 0; i < 8; i++)
		if (ns_tcp_cookie_mss[i] <= mss)
			m = i;
	return slot << 27 | m << 24 | ns_tcp_cookie_hash(t, laddr, raddr, lport, rport, irs, slot);
}

uint16_t
ns_tcp_cookie_check(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport, uint32_t irs,
		    uint32_t cookie, uint64_t now_ms)
{
	uint32_t now_slot = (uint32_t)(now_ms >> 16) & 31, slot = cookie >> 27;

	if (slot != now_slot && slot != ((now_slot + 31) & 31))
		return 0;
	if ((cookie & 0xffffff) != ns_tcp_cookie_hash(t, laddr, raddr, lport, rport, irs, slot))
		return 0;
	return ns_tcp_cookie_mss[(cookie >> 24) & 7];
}
