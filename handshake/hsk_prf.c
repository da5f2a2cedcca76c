/* TLS 1.2 PRF (RFC 5246 5) and the secrets derived with it. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "hsk_algs.h"
#include "hsk_prf.h"
#include "hsk_suite.h"

/* P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
 * with A(0) = seed, A(i) = HMAC(secret, A(i-1)), and seed = label + seed1 + seed2. */
hsk_err
hsk_prf(int hash, const uint8_t *secret, size_t secret_len, const char *label,
	const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
	uint8_t *out, size_t outlen)
{
	const EVP_MD *md = hsk_algs_md(hash);
	EVP_MAC_CTX *ctx = NULL;
	uint8_t a[64], block[64];
	size_t hlen = hsk_hash_len(hash), alen, n, done = 0;
	hsk_err err = HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	OSSL_PARAM params[2];

	if (md == NULL || hlen == 0)
		return err;
	ctx = EVP_MAC_CTX_new(hsk_algs_hmac());
	if (ctx == NULL)
		return err;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_end();
	/* A(1) = HMAC(secret, seed) */
	if (!EVP_MAC_init(ctx, secret, secret_len, params) ||
	    !EVP_MAC_update(ctx, (const uint8_t *)label, strlen(label)) ||
	    !EVP_MAC_update(ctx, seed1, seed1_len) || (seed2_len && !EVP_MAC_update(ctx, seed2, seed2_len)) ||
	    !EVP_MAC_final(ctx, a, &alen, sizeof(a)))
		goto out;
	while (done < outlen) {
		/* NULL key: HMAC re-initialises with the key already set. */
		if (!EVP_MAC_init(ctx, NULL, 0, NULL) || !EVP_MAC_update(ctx, a, alen) ||
		    !EVP_MAC_update(ctx, (const uint8_t *)label, strlen(label)) ||
		    !EVP_MAC_update(ctx, seed1, seed1_len) ||
		    (seed2_len && !EVP_MAC_update(ctx, seed2, seed2_len)) ||
		    !EVP_MAC_final(ctx, block, &n, sizeof(block)))
			goto out;
		if (n > outlen - done)
			n = outlen - done;
		memcpy(out + done, block, n);
		done += n;
		if (done < outlen && (!EVP_MAC_init(ctx, NULL, 0, NULL) || !EVP_MAC_update(ctx, a, alen) ||
				      !EVP_MAC_final(ctx, a, &alen, sizeof(a))))
			goto out;
	}
	err = HSK_OK;
out:
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(block, sizeof(block));
	EVP_MAC_CTX_free(ctx);
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
