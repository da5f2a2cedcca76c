/* AEAD through ipsec-mb (acc_imb_aead.h). One manager for the process,
 * set up once: the direct GCM and ChaCha20-Poly1305 calls only read it, so
 * every worker shares it; per-call state lives on the caller's stack. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "acc_imb_aead.h"
#include "tlso_build.h"

#if TLSO_HAVE_IPSECMB
#include <intel-ipsec-mb.h>

struct acc_imb_aead {
	struct gcm_key_data k;  /* on a 64-byte boundary (acc_imb_aead_new) */
	uint8_t key[32];        /* ChaCha20-Poly1305: the key itself */
	enum acc_aead alg;
};

static IMB_MGR *acc_imb_mgr;
static const char *acc_imb_name;
static pthread_once_t acc_imb_once = PTHREAD_ONCE_INIT;

static void
acc_imb_setup(void)
{
	const char *off = getenv("TLSO_NO_IPSECMB");
	IMB_ARCH arch;
	IMB_MGR *m;

	if (off != NULL && *off != '\0' && strcmp(off, "0") != 0)
		return;
	m = alloc_mb_mgr(0);
	if (m == NULL)
		return;
	init_mb_mgr_auto(m, &arch);
	if (imb_get_errno(m) != 0) {
		free_mb_mgr(m);
		return;
	}
	acc_imb_name = arch == IMB_ARCH_AVX512 ? "ipsec-mb avx512"
		       : arch == IMB_ARCH_AVX2 ? "ipsec-mb avx2"
		       : arch == IMB_ARCH_AVX ? "ipsec-mb avx"
					      : "ipsec-mb sse";
	acc_imb_mgr = m;
}

const char *
acc_imb_aead_impl(void)
{
	pthread_once(&acc_imb_once, acc_imb_setup);
	return acc_imb_mgr != NULL ? acc_imb_name : NULL;
}

struct acc_imb_aead *
acc_imb_aead_new(enum acc_aead alg, const uint8_t *key)
{
	struct acc_imb_aead *a;

	if (acc_imb_aead_impl() == NULL || alg < ACC_AEAD_AES_128_GCM || alg > ACC_AEAD_CHACHA20_POLY1305)
		return NULL;
	/* aligned_alloc wants a size that is a multiple of the alignment */
	a = aligned_alloc(64, (sizeof(*a) + 63) / 64 * 64);
	if (a == NULL)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->alg = alg;
	if (alg == ACC_AEAD_AES_128_GCM)
		IMB_AES128_GCM_PRE(acc_imb_mgr, key, &a->k);
	else if (alg == ACC_AEAD_AES_256_GCM)
		IMB_AES256_GCM_PRE(acc_imb_mgr, key, &a->k);
	else
		memcpy(a->key, key, 32);
	return a;
}

void
acc_imb_aead_free(struct acc_imb_aead *a)
{
	if (a == NULL)
		return;
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

/* Encrypt or decrypt in, tag into tag. */
static void
acc_imb_aead_run(const struct acc_imb_aead *a, bool enc, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		 const uint8_t *in, uint8_t *out, size_t len, uint8_t tag[16])
{
	union {
		struct gcm_context_data gcm;
		struct chacha20_poly1305_context_data chacha;
	} ctx;

	switch (a->alg) {
	case ACC_AEAD_AES_128_GCM:
		if (enc)
			IMB_AES128_GCM_ENC(acc_imb_mgr, &a->k, &ctx.gcm, out, in, len, iv, aad, aad_len, tag, 16);
		else
			IMB_AES128_GCM_DEC(acc_imb_mgr, &a->k, &ctx.gcm, out, in, len, iv, aad, aad_len, tag, 16);
		break;
	case ACC_AEAD_AES_256_GCM:
		if (enc)
			IMB_AES256_GCM_ENC(acc_imb_mgr, &a->k, &ctx.gcm, out, in, len, iv, aad, aad_len, tag, 16);
		else
			IMB_AES256_GCM_DEC(acc_imb_mgr, &a->k, &ctx.gcm, out, in, len, iv, aad, aad_len, tag, 16);
		break;
	case ACC_AEAD_CHACHA20_POLY1305:
	default:
		IMB_CHACHA20_POLY1305_INIT(acc_imb_mgr, a->key, &ctx.chacha, iv, aad, aad_len);
		if (enc) {
			IMB_CHACHA20_POLY1305_ENC_UPDATE(acc_imb_mgr, a->key, &ctx.chacha, out, in, len);
			IMB_CHACHA20_POLY1305_ENC_FINALIZE(acc_imb_mgr, &ctx.chacha, tag, 16);
		} else {
			IMB_CHACHA20_POLY1305_DEC_UPDATE(acc_imb_mgr, a->key, &ctx.chacha, out, in, len);
			IMB_CHACHA20_POLY1305_DEC_FINALIZE(acc_imb_mgr, &ctx.chacha, tag, 16);
		}
		break;
	}
	OPENSSL_cleanse(&ctx, sizeof(ctx));
}

void
acc_imb_aead_seal(const struct acc_imb_aead *a, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		  const uint8_t *in, uint8_t *out, size_t len, uint8_t tag[16])
{
	acc_imb_aead_run(a, true, iv, aad, aad_len, in, out, len, tag);
}

bool
acc_imb_aead_open(const struct acc_imb_aead *a, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		  const uint8_t *in, uint8_t *out, size_t len, const uint8_t tag[16])
{
	uint8_t want[16];
	bool ok;

	acc_imb_aead_run(a, false, iv, aad, aad_len, in, out, len, want);
	ok = CRYPTO_memcmp(want, tag, 16) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

#else /* no ipsec-mb in this build: always the EVP fallback */

const char *
acc_imb_aead_impl(void)
{
	return NULL;
}

struct acc_imb_aead *
acc_imb_aead_new(enum acc_aead alg, const uint8_t *key)
{
	(void)alg;
	(void)key;
	return NULL;
}

void
acc_imb_aead_free(struct acc_imb_aead *a)
{
	(void)a;
}

void
acc_imb_aead_seal(const struct acc_imb_aead *a, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		  const uint8_t *in, uint8_t *out, size_t len, uint8_t tag[16])
{
	(void)a, (void)iv, (void)aad, (void)aad_len, (void)in, (void)out, (void)len, (void)tag;
	abort(); /* unreachable: acc_imb_aead_new() gave NULL */
}

bool
acc_imb_aead_open(const struct acc_imb_aead *a, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		  const uint8_t *in, uint8_t *out, size_t len, const uint8_t tag[16])
{
	(void)a, (void)iv, (void)aad, (void)aad_len, (void)in, (void)out, (void)len, (void)tag;
	abort();
}
#endif
