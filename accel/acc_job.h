/* Crypto jobs: the only way private-key and key-agreement operations leave
 * the engine (DESIGN.md, "The crypto job lifecycle").
 *
 * A job lives inside its connection (no allocation per job). The engine
 * fills it, submits it to its worker's executor and returns "want crypto";
 * the executor runs queued jobs in batches at flush time and hands each
 * finished job back through a callback; the owner resumes the engine.
 *
 * Algorithms are named by their TLS code points so that the engine and
 * every backend agree without a translation table: SignatureScheme
 * (RFC 8446 4.2.3) for signatures, NamedGroup (RFC 8446 4.2.7, RFC 7919)
 * for key agreement. accel/ knows nothing else about TLS. */
#ifndef ACC_JOB_H
#define ACC_JOB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SignatureScheme code points. */
enum acc_sigscheme {
	ACC_SIG_RSA_PKCS1_SHA1 = 0x0201,
	ACC_SIG_RSA_PKCS1_SHA256 = 0x0401,
	ACC_SIG_RSA_PKCS1_SHA384 = 0x0501,
	ACC_SIG_RSA_PKCS1_SHA512 = 0x0601,
	ACC_SIG_ECDSA_SECP256R1_SHA256 = 0x0403,
	ACC_SIG_ECDSA_SECP384R1_SHA384 = 0x0503,
	ACC_SIG_ECDSA_SECP521R1_SHA512 = 0x0603,
	ACC_SIG_RSA_PSS_RSAE_SHA256 = 0x0804,
	ACC_SIG_RSA_PSS_RSAE_SHA384 = 0x0805,
	ACC_SIG_RSA_PSS_RSAE_SHA512 = 0x0806,
	ACC_SIG_ED25519 = 0x0807,
};

/* NamedGroup code points. */
enum acc_group {
	ACC_GROUP_SECP256R1 = 0x0017,
	ACC_GROUP_SECP384R1 = 0x0018,
	ACC_GROUP_SECP521R1 = 0x0019,
	ACC_GROUP_X25519 = 0x001d,
	ACC_GROUP_FFDHE2048 = 0x0100,
	ACC_GROUP_FFDHE3072 = 0x0101,
	/* Hybrid ML-KEM-768 + X25519 (draft-ietf-tls-ecdhe-mlkem): TLS 1.3
	 * only, KX_KEYGEN_DERIVE only (acc_mlkem_kx.h). */
	ACC_GROUP_X25519MLKEM768 = 0x11ec,
};

enum acc_op {
	/* Sign a digest (in = digest of the hash the scheme names; out = the
	 * signature; RSA: PKCS#1 v1.5 or PSS with salt = hash length). */
	ACC_OP_SIGN = 1,
	/* TLS 1.2 static-RSA premaster decryption with implicit rejection
	 * (RFC 5246 7.4.7.1): in = EncryptedPreMasterSecret, out = 48 bytes,
	 * always. On any padding, length or version failure the output is a
	 * random premaster and status is still ACC_DONE: nothing observable
	 * differs. client_version is the ClientHello's legacy_version. */
	ACC_OP_RSA_DECRYPT_PMS = 2,
	/* Ephemeral key generation for alg (a NamedGroup): fills *eph and
	 * writes the public value to out (X25519: 32 bytes; NIST curves: the
	 * uncompressed point; FFDHE: Ys left-padded to the prime length). */
	ACC_OP_KX_KEYGEN = 3,
	/* Key agreement: *eph with the peer's public value in -> shared secret
	 * in out (FFDHE: leading zero bytes stripped, RFC 5246 8.1.2; the
	 * other groups: fixed length). Fails on an invalid peer value. */
	ACC_OP_KX_DERIVE = 4,
	/* Keygen and derive in one job (TLS 1.3 server, where the client's
	 * share is known first): out = our public value, secret = shared
	 * (FFDHE: left-padded to the prime length, RFC 8446 7.4.1). */
	ACC_OP_KX_KEYGEN_DERIVE = 5,
};

enum acc_status {
	ACC_PENDING = 0,
	ACC_DONE = 1,
	ACC_FAILED = 2,
};

struct acc_key; /* a loaded private key (acc_key.h) */

/* An ephemeral private key. Backend-specific state hangs from impl; the
 * owner releases it with acc_eph_clear(), which also zeroizes priv. */
struct acc_eph {
	uint16_t group;
	uint16_t priv_len;
	uint16_t pub_len;  /* X25519 made on the lanes: the public value is */
	uint8_t pub[32];   /* kept, so that OpenSSL need not recompute it */
	uint8_t priv[64];
	void *impl;
};

void acc_eph_clear(struct acc_eph *eph);

struct acc_job {
	uint8_t op;         /* enum acc_op */
	uint8_t status;     /* enum acc_status, set by the executor */
	uint16_t alg;       /* SignatureScheme or NamedGroup */
	uint16_t client_version; /* ACC_OP_RSA_DECRYPT_PMS */
	const struct acc_key *key; /* SIGN, RSA_DECRYPT_PMS */
	struct acc_eph *eph;       /* KX_* */
	const uint8_t *in;
	uint32_t in_len;
	uint8_t *out;
	uint32_t out_cap;
	uint32_t out_len;          /* set by the executor */
	uint8_t *secret;           /* KX_KEYGEN_DERIVE: shared secret */
	uint32_t secret_cap;
	uint32_t secret_len;
	void *owner;               /* the connection */
	uint32_t gen;              /* owner's generation when submitted */
	struct acc_job *next;      /* executor's queue link */
};

#ifdef __cplusplus
}
#endif
#endif
