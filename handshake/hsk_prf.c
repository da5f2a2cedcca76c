/* TLS 1.2 PRF (RFC 5246 5) and the secrets derived with it. */
#include <string.h>

#include <openssl/crypto.h>

#include "hsk_algs.h"
#include "hsk_hkdf.h"
#include "hsk_prf.h"
#include "hsk_suite.h"

/* P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
 * with A(0) = seed, A(i) = HMAC(secret, A(i-1)), and seed = label + seed1 + seed2. */
hsk_err
hsk_prf(int hash, const uint8_t *secret, size_t secret_len, const char *label,
	const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
	uint8_t *out, size_t outlen)
{
	uint8_t a[64], block[64];
	size_t alen = 0, n = 0, done = 0;
	/* A(i-1) then the seed: A(0) is the seed itself */
	struct hsk_piece piece[4] = { { NULL, 0 },
				      { (const uint8_t *)label, strlen(label) },
				      { seed1, seed1_len },
				      { seed2, seed2_len } };
	hsk_err err;

	/* A(1) = HMAC(secret, seed) */
	err = hsk_hmacv(hash, secret, secret_len, piece + 1, 3, a, &alen);
	while (err == HSK_OK && done < outlen) {
		piece[0].p = a;
		piece[0].len = alen;
		err = hsk_hmacv(hash, secret, secret_len, piece, 4, block, &n);
		if (err != HSK_OK)
			break;
		if (n > outlen - done)
			n = outlen - done;
		memcpy(out + done, block, n);
		done += n;
		if (done < outlen) /* A(i+1) = HMAC(secret, A(i)) */
			err = hsk_hmacv(hash, secret, secret_len, piece, 1, a, &alen);
	}
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(block, sizeof(block));
	return err;
}

hsk_err
hsk_prf_master(int hash, const uint8_t *pms, size_t pms_len, int ems,
	       const uint8_t client_random[32], const uint8_t server_random[32],
	       const uint8_t *session_hash, size_t session_hash_len, uint8_t master[48])
{
	/* RFC 7627 4: the session hash replaces the randoms. */
	if (ems)
		return hsk_prf(hash, pms, pms_len, "extended master secret", session_hash,
			       session_hash_len, NULL, 0, master, 48);
	return hsk_prf(hash, pms, pms_len, "master secret", client_random, 32, server_random, 32,
		       master, 48);
}

hsk_err
hsk_prf_key_block(int hash, const uint8_t master[48], const uint8_t client_random[32],
		  const uint8_t server_random[32], uint8_t *out, size_t outlen)
{
	return hsk_prf(hash, master, 48, "key expansion", server_random, 32, client_random, 32, out,
		       outlen);
}

hsk_err
hsk_prf_finished(int hash, const uint8_t master[48], int is_client, const uint8_t *transcript_hash,
		 size_t hash_len, uint8_t out[12])
{
	return hsk_prf(hash, master, 48, is_client ? "client finished" : "server finished",
		       transcript_hash, hash_len, NULL, 0, out, 12);
}
