/* OpenSSL 3.0 libcrypto backend for crypto jobs. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "acc_key_priv.h"
#include "acc_ossl.h"

/* Key-generation contexts, initialised once per executor (one thread). */
enum { ACC_KX_X25519, ACC_KX_P256, ACC_KX_P384, ACC_KX_P521, ACC_KX_FF2048, ACC_KX_FF3072, ACC_KX_N };

/* Signing contexts kept initialised per (key, scheme): setting one up
 * fetches the signature method and, inside the provider, the digest by
 * name; a worker signs with few keys and schemes (bench/RESULTS.md). */
#define ACC_SIGN_CTXS 8

struct acc_sign_ctx {
	uint64_t key_id; /* 0: free */
	uint16_t scheme;
	EVP_PKEY_CTX *ctx;
};

struct acc_ossl {
	EVP_PKEY_CTX *keygen[ACC_KX_N];
	EVP_PKEY_CTX *x25519_import; /* EVP_PKEY_fromdata, initialised once */
	struct acc_sign_ctx sign[ACC_SIGN_CTXS];
	unsigned sign_next; /* the entry replaced next (round robin) */
};

static int
acc_ossl_kx_index(uint16_t group)
{
	switch (group) {
	case ACC_GROUP_X25519:
		return ACC_KX_X25519;
	case ACC_GROUP_SECP256R1:
		return ACC_KX_P256;
	case ACC_GROUP_SECP384R1:
		return ACC_KX_P384;
	case ACC_GROUP_SECP521R1:
		return ACC_KX_P521;
	case ACC_GROUP_FFDHE2048:
		return ACC_KX_FF2048;
	case ACC_GROUP_FFDHE3072:
		return ACC_KX_FF3072;
	default:
		return -1;
	}
}

static EVP_PKEY_CTX *
acc_ossl_keygen_ctx(int idx)
{
	static const struct {
		const char *type;
		const char *group;
	} kx[ACC_KX_N] = {
		[ACC_KX_X25519] = { "X25519", NULL },
		[ACC_KX_P256] = { "EC", "P-256" },
		[ACC_KX_P384] = { "EC", "P-384" },
		[ACC_KX_P521] = { "EC", "P-521" },
		[ACC_KX_FF2048] = { "DH", "ffdhe2048" },
		[ACC_KX_FF3072] = { "DH", "ffdhe3072" },
	};
	EVP_PKEY_CTX *ctx;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, kx[idx].type, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0)
		goto fail;
	if (kx[idx].group != NULL) {
		OSSL_PARAM params[2] = {
			OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
							 (char *)kx[idx].group, 0),
			OSSL_PARAM_construct_end(),
		};
		if (EVP_PKEY_CTX_set_params(ctx, params) <= 0)
			goto fail;
	}
	return ctx;
fail:
	EVP_PKEY_CTX_free(ctx);
	return NULL;
}

struct acc_ossl *
acc_ossl_new(void)
{
	struct acc_ossl *o = calloc(1, sizeof(*o));
	int i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < ACC_KX_N; i++) {
		o->keygen[i] = acc_ossl_keygen_ctx(i);
		if (o->keygen[i] == NULL) {
			acc_ossl_free(o);
			return NULL;
		}
	}
	o->x25519_import = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
	if (o->x25519_import == NULL || EVP_PKEY_fromdata_init(o->x25519_import) <= 0) {
		acc_ossl_free(o);
		return NULL;
	}
	return o;
}

void
acc_ossl_free(struct acc_ossl *o)
{
	int i;

	if (o == NULL)
		return;
	for (i = 0; i < ACC_KX_N; i++)
		EVP_PKEY_CTX_free(o->keygen[i]);
	for (i = 0; i < ACC_SIGN_CTXS; i++)
		EVP_PKEY_CTX_free(o->sign[i].ctx);
	EVP_PKEY_CTX_free(o->x25519_import);
	free(o);
}

void
acc_eph_clear(struct acc_eph *eph)
{
	EVP_PKEY_free(eph->impl);
	eph->impl = NULL;
	OPENSSL_cleanse(eph->priv, sizeof(eph->priv));
	eph->priv_len = 0;
	eph->pub_len = 0;
}

const EVP_MD *
acc_ossl_sig_md(uint16_t scheme)
{
	switch (scheme) {
	case ACC_SIG_RSA_PKCS1_SHA1:
		return EVP_sha1();
	case ACC_SIG_RSA_PKCS1_SHA256:
	case ACC_SIG_RSA_PSS_RSAE_SHA256:
	case ACC_SIG_ECDSA_SECP256R1_SHA256:
		return EVP_sha256();
	case ACC_SIG_RSA_PKCS1_SHA384:
	case ACC_SIG_RSA_PSS_RSAE_SHA384:
	case ACC_SIG_ECDSA_SECP384R1_SHA384:
		return EVP_sha384();
	case ACC_SIG_RSA_PKCS1_SHA512:
	case ACC_SIG_RSA_PSS_RSAE_SHA512:
	case ACC_SIG_ECDSA_SECP521R1_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

/* Which key type a SignatureScheme needs, and RSA padding. */
int
acc_ossl_sig_kind(uint16_t scheme, int *pad)
{
	switch (scheme) {
	case ACC_SIG_RSA_PKCS1_SHA1:
	case ACC_SIG_RSA_PKCS1_SHA256:
	case ACC_SIG_RSA_PKCS1_SHA384:
	case ACC_SIG_RSA_PKCS1_SHA512:
		*pad = RSA_PKCS1_PADDING;
		return ACC_KEY_RSA;
	case ACC_SIG_RSA_PSS_RSAE_SHA256:
	case ACC_SIG_RSA_PSS_RSAE_SHA384:
	case ACC_SIG_RSA_PSS_RSAE_SHA512:
		*pad = RSA_PKCS1_PSS_PADDING;
		return ACC_KEY_RSA;
	case ACC_SIG_ECDSA_SECP256R1_SHA256:
	case ACC_SIG_ECDSA_SECP384R1_SHA384:
	case ACC_SIG_ECDSA_SECP521R1_SHA512:
		*pad = 0;
		return ACC_KEY_EC;
	default:
		return 0;
	}
}

/* A signing context for the job's key and scheme, set up once. */
static EVP_PKEY_CTX *
acc_ossl_sign_ctx(struct acc_ossl *o, const struct acc_job *job, const EVP_MD *md, int pad)
{
	struct acc_sign_ctx *e;
	EVP_PKEY_CTX *ctx;

	for (unsigned i = 0; i < ACC_SIGN_CTXS; i++)
		if (o->sign[i].key_id == job->key->id && o->sign[i].scheme == job->alg)
			return o->sign[i].ctx;
	ctx = EVP_PKEY_CTX_new(job->key->pkey, NULL);
	if (ctx == NULL || EVP_PKEY_sign_init(ctx) <= 0 || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
	    (pad != 0 && EVP_PKEY_CTX_set_rsa_padding(ctx, pad) <= 0) ||
	    /* TLS: PSS salt length equals the hash length (RFC 8446 4.2.3). */
	    (pad == RSA_PKCS1_PSS_PADDING && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0)) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	e = &o->sign[o->sign_next++ % ACC_SIGN_CTXS];
	EVP_PKEY_CTX_free(e->ctx); /* it holds its key: no dangling reference */
	e->key_id = job->key->id;
	e->scheme = job->alg;
	e->ctx = ctx;
	return ctx;
}

static void
acc_ossl_sign_ctx_drop(struct acc_ossl *o, EVP_PKEY_CTX *ctx)
{
	for (unsigned i = 0; i < ACC_SIGN_CTXS; i++) {
		if (o->sign[i].ctx == ctx) {
			EVP_PKEY_CTX_free(ctx);
			o->sign[i].ctx = NULL;
			o->sign[i].key_id = 0;
		}
	}
}

static int
acc_ossl_sign(struct acc_ossl *o, struct acc_job *job)
{
	const EVP_MD *md = acc_ossl_sig_md(job->alg);
	EVP_PKEY_CTX *ctx;
	size_t outlen = job->out_cap;
	int pad = 0;

	if (md == NULL || job->key == NULL || acc_ossl_sig_kind(job->alg, &pad) != job->key->type)
		return 0;
	if (job->in_len != (uint32_t)EVP_MD_get_size(md))
		return 0;
	if ((ctx = acc_ossl_sign_ctx(o, job, md, pad)) == NULL)
		return 0;
	/* Each call draws its own nonce (ECDSA) or salt (PSS). */
	if (EVP_PKEY_sign(ctx, job->out, &outlen, job->in, job->in_len) <= 0) {
		acc_ossl_sign_ctx_drop(o, ctx); /* whatever state it is in: not again */
		return 0;
	}
	job->out_len = (uint32_t)outlen;
	return 1;
}

/* RFC 5246 7.4.7.1: OpenSSL 3.0's RSA_PKCS1_WITH_TLS_PADDING decrypts
 * with the padding and version checks done in constant time and returns a
 * random premaster on any failure, which is exactly the implicit rejection
 * the RFC (and ROBOT) asks for: the caller cannot tell the cases apart. */
static int
acc_ossl_decrypt_pms(struct acc_job *job)
{
	EVP_PKEY_CTX *ctx = NULL;
	size_t outlen = job->out_cap;
	unsigned int ver = job->client_version;
	int ok = 0;
	OSSL_PARAM params[2];

	if (job->key == NULL || job->key->type != ACC_KEY_RSA || job->out_cap < 48 ||
	    job->in_len != job->key->max_sig)
		goto random;
	ctx = EVP_PKEY_CTX_new(job->key->pkey, NULL);
	if (ctx == NULL || EVP_PKEY_decrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_WITH_TLS_PADDING) <= 0)
		goto out;
	params[0] = OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, &ver);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_PKEY_CTX_set_params(ctx, params) <= 0)
		goto out;
	if (EVP_PKEY_decrypt(ctx, job->out, &outlen, job->in, job->in_len) <= 0 || outlen != 48)
		goto random;
	job->out_len = 48;
	ok = 1;
	goto out;
random:
	/* A wrong-length ciphertext is public information: still no alert. */
	if (job->out_cap >= 48 && RAND_bytes(job->out, 48) == 1) {
		job->out_len = 48;
		ok = 1;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

static int
acc_ossl_public(EVP_PKEY *pkey, uint16_t group, uint8_t *out, uint32_t cap, uint32_t *len)
{
	size_t n = cap;

	switch (group) {
	case ACC_GROUP_X25519:
		if (EVP_PKEY_get_raw_public_key(pkey, out, &n) <= 0)
			return 0;
		break;
	case ACC_GROUP_SECP256R1:
	case ACC_GROUP_SECP384R1:
	case ACC_GROUP_SECP521R1:
		if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, cap,
						    &n) <= 0)
			return 0;
		break;
	case ACC_GROUP_FFDHE2048:
	case ACC_GROUP_FFDHE3072: {
		/* Ys left-padded to the prime length (RFC 7919 3). */
		BIGNUM *y = NULL;
		int plen = EVP_PKEY_get_size(pkey);

		if (plen <= 0 || (uint32_t)plen > cap ||
		    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, &y) <= 0)
			return 0;
		n = (size_t)plen;
		if (BN_bn2binpad(y, out, plen) != plen) {
			BN_free(y);
			return 0;
		}
		BN_free(y);
		break;
	}
	default:
		return 0;
	}
	*len = (uint32_t)n;
	return 1;
}

static int
acc_ossl_keygen(struct acc_ossl *o, struct acc_job *job)
{
	struct acc_eph *eph = job->eph;
	EVP_PKEY *pkey = NULL;
	int idx = acc_ossl_kx_index(job->alg);

	if (idx < 0 || eph == NULL)
		return 0;
	acc_eph_clear(eph);
	eph->group = job->alg;
	if (EVP_PKEY_keygen(o->keygen[idx], &pkey) <= 0)
		return 0;
	eph->impl = pkey;
	return acc_ossl_public(pkey, job->alg, job->out, job->out_cap, &job->out_len);
}

static int
acc_ossl_is_ffdhe(uint16_t group)
{
	return group == ACC_GROUP_FFDHE2048 || group == ACC_GROUP_FFDHE3072;
}

/* Import an X25519 private key held as bytes (made on the lanes, or set
 * by a test). With the public value known the import is a copy; without
 * it OpenSSL recomputes it, a multiplication (measured: 1.3 vs 38 us). */
static int
acc_ossl_eph_import(struct acc_ossl *o, struct acc_job *job)
{
	struct acc_eph *eph = job->eph;

	if (job->alg != ACC_GROUP_X25519 || eph->priv_len != 32)
		return 0;
	if (eph->pub_len == 32) {
		OSSL_PARAM p[] = {
			OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, eph->priv, 32),
			OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, eph->pub, 32),
			OSSL_PARAM_construct_end(),
		};
		EVP_PKEY *pkey = NULL;

		(void)EVP_PKEY_fromdata(o->x25519_import, &pkey, EVP_PKEY_KEYPAIR, p);
		eph->impl = pkey;
	} else {
		eph->impl = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, eph->priv, 32);
	}
	eph->group = job->alg;
	return eph->impl != NULL;
}

/* pad: an FFDHE secret keeps its leading zero bytes, left-padded to the
 * prime's length (KX_KEYGEN_DERIVE, acc_job.h); without, they are
 * stripped (KX_DERIVE). */
static int
acc_ossl_derive_into(struct acc_eph *eph, const uint8_t *peer_pub, uint32_t peer_len, uint8_t *out,
		     uint32_t cap, uint32_t *len, int pad)
{
	EVP_PKEY *ours = eph->impl, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = cap;
	int ok = 0;

	if (ours == NULL)
		return 0;
	if (eph->group == ACC_GROUP_X25519) {
		if (peer_len != 32)
			return 0;
		peer = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer_pub, 32);
	} else {
		/* Same group parameters as ours; the encoded point (or Y) is
		 * decoded and, for EC, checked to lie on the curve. */
		if (acc_ossl_is_ffdhe(eph->group) && (peer_len == 0 || peer_len > (uint32_t)EVP_PKEY_get_size(ours)))
			return 0;
		peer = EVP_PKEY_new();
		if (peer == NULL || EVP_PKEY_copy_parameters(peer, ours) <= 0 ||
		    EVP_PKEY_set1_encoded_public_key(peer, peer_pub, peer_len) <= 0)
			goto out;
	}
	if (peer == NULL)
		goto out;
	ctx = EVP_PKEY_CTX_new(ours, NULL);
	/* validate_peer: EC point on the curve, DH 1 < Y < p-1 (RFC 7919 5.1). */
	if (ctx == NULL || EVP_PKEY_derive_init(ctx) <= 0 ||
	    (pad && acc_ossl_is_ffdhe(eph->group) && EVP_PKEY_CTX_set_dh_pad(ctx, 1) <= 0) ||
	    EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) <= 0 ||
	    EVP_PKEY_derive(ctx, out, &n) <= 0)
		goto out;
	*len = (uint32_t)n;
	ok = 1;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	ERR_clear_error();
	return ok;
}

void
acc_ossl_run(struct acc_ossl *o, struct acc_job *job)
{
	int ok = 0;

	job->out_len = 0;
	switch (job->op) {
	case ACC_OP_SIGN:
		ok = acc_ossl_sign(o, job);
		break;
	case ACC_OP_RSA_DECRYPT_PMS:
		ok = acc_ossl_decrypt_pms(job);
		break;
	case ACC_OP_KX_KEYGEN:
		if (job->eph != NULL && job->eph->impl == NULL && job->eph->priv_len != 0)
			ok = acc_ossl_eph_import(o, job) &&
			     acc_ossl_public(job->eph->impl, job->alg, job->out, job->out_cap,
					     &job->out_len);
		else
			ok = acc_ossl_keygen(o, job);
		break;
	case ACC_OP_KX_DERIVE:
		/* a private key held as bytes (made on the IFMA lanes): import */
		if (job->eph != NULL && job->eph->impl == NULL && job->eph->priv_len != 0 &&
		    !acc_ossl_eph_import(o, job))
			break;
		ok = job->eph != NULL && acc_ossl_derive_into(job->eph, job->in, job->in_len, job->out,
							      job->out_cap, &job->out_len, 0);
		break;
	case ACC_OP_KX_KEYGEN_DERIVE:
		ok = acc_ossl_keygen(o, job) &&
		     acc_ossl_derive_into(job->eph, job->in, job->in_len, job->secret,
					  job->secret_cap, &job->secret_len, 1);
		break;
	default:
		break;
	}
	if (!ok)
		ERR_clear_error();
	job->status = ok ? ACC_DONE : ACC_FAILED;
}
