/* TLS 1.2 PRF (RFC 5246 5) and the secrets derived with it: master secret
 * (RFC 5246 8.1), extended master secret (RFC 7627 4), key block
 * (RFC 5246 6.3), Finished verify_data (RFC 5246 7.4.9). The hash is the
 * suite's PRF hash (enum hsk_hash). */
#ifndef HSK_PRF_H
#define HSK_PRF_H

#include <stddef.h>
#include <stdint.h>

#include "hsk_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out = P_hash(secret, label || seed1 || seed2), outlen bytes. */
HSK_MUST_CHECK hsk_err hsk_prf(int hash, const uint8_t *secret, size_t secret_len, const char *label,
			       const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2,
			       size_t seed2_len, uint8_t *out, size_t outlen);

/* master_secret (48 bytes). With ems, session_hash is the transcript hash
 * through ClientKeyExchange and the randoms are ignored. */
HSK_MUST_CHECK hsk_err hsk_prf_master(int hash, const uint8_t *pms, size_t pms_len, int ems,
				      const uint8_t client_random[32], const uint8_t server_random[32],
				      const uint8_t *session_hash, size_t session_hash_len,
				      uint8_t master[48]);

/* key_block = PRF(master, "key expansion", server_random + client_random). */
HSK_MUST_CHECK hsk_err hsk_prf_key_block(int hash, const uint8_t master[48],
					 const uint8_t client_random[32],
					 const uint8_t server_random[32], uint8_t *out, size_t outlen);

/* verify_data (12 bytes) for "client finished" (is_client) or "server finished". */
HSK_MUST_CHECK hsk_err hsk_prf_finished(int hash, const uint8_t master[48], int is_client,
					const uint8_t *transcript_hash, size_t hash_len,
					uint8_t out[12]);

#ifdef __cplusplus
}
#endif
#endif
