/* The record layer (handshake/rec_layer.c): rec_hdr_parse and rec_open on
 * every cipher family (AES-GCM and ChaCha20-Poly1305 in TLS 1.2 and 1.3,
 * AES-CBC with HMAC-SHA1/SHA256/SHA384, MAC-then-encrypt and
 * encrypt-then-MAC), with fixed keys.
 *
 * Input: byte 0 chooses the family, byte 1 the mode:
 *   0  the rest is a stream of records from the wire: each is parsed and
 *      opened (nearly always a MAC failure: the framing and the length
 *      checks before it are the target);
 *   1  the rest is a list of (type, 2-byte length, plaintext): each is
 *      sealed, then parsed and opened again, and must come back the same;
 *   2  one (type, length, plaintext, 2-byte position): sealed, one bit
 *      flipped at the position, and it must not open. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hsk_suite.h"
#include "rec_layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct family {
	uint16_t suite;
	uint16_t version;
	bool etm;
};

static const struct family families[] = {
	{ 0xc02f, 0x0303, false }, /* ECDHE-RSA-AES128-GCM-SHA256 */
	{ 0xc030, 0x0303, false }, /* ECDHE-RSA-AES256-GCM-SHA384 */
	{ 0xcca8, 0x0303, false }, /* ECDHE-RSA-CHACHA20-POLY1305 */
	{ 0xc027, 0x0303, false }, /* AES128-CBC-SHA256, MAC-then-encrypt */
	{ 0xc027, 0x0303, true },  /* ... encrypt-then-MAC */
	{ 0xc028, 0x0303, false }, /* AES256-CBC-SHA384 */
	{ 0xc028, 0x0303, true },
	{ 0xc013, 0x0303, false }, /* AES128-CBC-SHA */
	{ 0xc013, 0x0303, true },
	{ 0x1301, 0x0304, false }, /* TLS_AES_128_GCM_SHA256 */
	{ 0x1302, 0x0304, false }, /* TLS_AES_256_GCM_SHA384 */
	{ 0x1303, 0x0304, false }, /* TLS_CHACHA20_POLY1305_SHA256 */
};

#define N_FAMILIES (sizeof(families) / sizeof(families[0]))
#define BUF_CAP (REC_HDR_LEN + REC_MAX_CIPHER_12 + REC_MAX_OVERHEAD)

static const uint8_t key[32] = "fuzz record key, 32 bytes long!";
static const uint8_t iv[12] = "fuzz nonce!";
static const uint8_t mac_key[48] = "fuzz record MAC key, up to 48 bytes of it.....";

static bool
dir(struct rec_dir *d, const struct family *f, bool encrypt)
{
	const struct hsk_suite *s = hsk_suite_by_id(f->suite);

	memset(d, 0, sizeof(*d));
	if (s == NULL)
		abort();
	return rec_dir_init(d, s, f->version, encrypt, f->etm, key, iv, mac_key) == HSK_OK;
}

static size_t
max_len(const struct family *f)
{
	return f->version == 0x0304 ? REC_MAX_CIPHER_13 : REC_MAX_CIPHER_12;
}

/* Mode 0: records as they come off the wire. */
static void
open_stream(struct rec_dir *rd, const struct family *f, const uint8_t *p, size_t n, uint8_t *buf)
{
	struct rec_hdr h;
	uint8_t *pt;
	size_t ptlen;

	memcpy(buf, p, n); /* opened in place */
	while (rec_hdr_parse(buf, n, max_len(f), &h) == HSK_OK) {
		if (rec_open(rd, &h, buf + REC_HDR_LEN, &pt, &ptlen) == HSK_OK &&
		    (ptlen > REC_MAX_PLAIN || pt < buf || pt + ptlen > buf + REC_HDR_LEN + h.len))
			abort();
		buf += REC_HDR_LEN + h.len;
		n -= REC_HDR_LEN + h.len;
	}
}

/* Seal one record into buf; its length, or 0. */
static size_t
seal(struct rec_dir *wr, uint8_t type, const uint8_t *pt, size_t len, uint8_t *buf)
{
	struct hsk_wr w;

	hsk_wr_init(&w, buf, BUF_CAP);
	if (rec_seal(wr, type, pt, len, &w) != HSK_OK)
		abort(); /* any type and up to 2^14 bytes must seal */
	if (w.len > rec_overhead(wr, len) + len)
		abort(); /* the output buffer is sized by rec_overhead */
	return w.len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t types[4] = { REC_HANDSHAKE, REC_APPLICATION_DATA, REC_ALERT,
					  REC_CHANGE_CIPHER_SPEC };
	static uint8_t buf[BUF_CAP];
	struct rec_dir wr, rd;
	const struct family *f;
	struct rec_hdr h;
	uint8_t *pt;
	size_t ptlen;

	if (size < 2)
		return 0;
	f = &families[data[0] % N_FAMILIES];
	if (!dir(&wr, f, true) || !dir(&rd, f, false))
		abort();
	data += 2;
	size -= 2;
	switch (data[-1] % 3) {
	case 0:
		open_stream(&rd, f, data, size < BUF_CAP ? size : BUF_CAP, buf);
		break;
	case 1:
		while (size >= 3) {
			uint8_t type = types[data[0] & 3];
			size_t len = (size_t)(data[1] << 8 | data[2]) % (REC_MAX_PLAIN + 1), n;

			if (len > size - 3)
				len = size - 3;
			n = seal(&wr, type, data + 3, len, buf);
			if (rec_hdr_parse(buf, n, max_len(f), &h) != HSK_OK || REC_HDR_LEN + h.len != n ||
			    rec_open(&rd, &h, buf + REC_HDR_LEN, &pt, &ptlen) != HSK_OK || h.type != type ||
			    ptlen != len || memcmp(pt, data + 3, len) != 0)
				abort();
			data += 3 + len;
			size -= 3 + len;
		}
		break;
	default:
		if (size >= 5) {
			size_t len = (size_t)(data[1] << 8 | data[2]) % (REC_MAX_PLAIN + 1), n, at;

			if (len > size - 5)
				len = size - 5;
			n = seal(&wr, types[data[0] & 3], data + 3, len, buf);
			at = (size_t)(data[3 + len] << 8 | data[4 + len]);
			buf[at % n] ^= (uint8_t)(1u << (data[0] >> 5));
			if (rec_hdr_parse(buf, n, max_len(f), &h) == HSK_OK &&
			    rec_open(&rd, &h, buf + REC_HDR_LEN, &pt, &ptlen) == HSK_OK)
				abort(); /* a changed record must not open */
		}
		break;
	}
	rec_dir_clear(&wr);
	rec_dir_clear(&rd);
	return 0;
}
