/* The connection object, shared by the engine's files (not public). */
#ifndef HSK_CONN_PRIV_H
#define HSK_CONN_PRIV_H

#include <openssl/evp.h>

#include "acc_job.h"
#include "hsk_buf.h"
#include "hsk_client_hello.h"
#include "hsk_conn.h"
#include "hsk_ctx.h"
#include "hsk_sess.h"
#include "hsk_store.h"
#include "hsk_ticket.h"
#include "rec_layer.h"

/* Buffers, allocated once with the connection object. */
#define HSK_IN_CAP (REC_HDR_LEN + REC_MAX_CIPHER_12)
#define HSK_OUT_CAP (2 * (REC_HDR_LEN + REC_MAX_PLAIN + REC_MAX_OVERHEAD) + 1024)
/* The raw transcript kept for a TLS 1.2 CertificateVerify: the
 * ClientHello and the client's Certificate (each up to the listener's
 * max_hs_msg) and the rest of the handshake (our flight, 32 KiB). */
#define HSK_TRANSCRIPT_SLACK (32 * 1024)
/* Our TLS 1.3 key share's room in job_out, the shared secret after it. */
#define HSK13_SHARE_CAP 1152

/* Handshake message types (RFC 5246 7.4). */
enum hsk_msg {
	HSK_MT_HELLO_REQUEST = 0,
	HSK_MT_CLIENT_HELLO = 1,
	HSK_MT_SERVER_HELLO = 2,
	HSK_MT_CERTIFICATE = 11,
	HSK_MT_SERVER_KEY_EXCHANGE = 12,
	HSK_MT_CERTIFICATE_REQUEST = 13,
	HSK_MT_SERVER_HELLO_DONE = 14,
	HSK_MT_CERTIFICATE_VERIFY = 15,
	HSK_MT_CLIENT_KEY_EXCHANGE = 16,
	HSK_MT_FINISHED = 20,
	HSK_MT_KEY_UPDATE = 24,
};

/* Where the server is; each state names what it waits for. */
enum hsk_state {
	HSK_ST_CLIENT_HELLO = 0,
	HSK_ST_KEYGEN,         /* job: ephemeral key for ServerKeyExchange */
	HSK_ST_SIGN,           /* job: ServerKeyExchange signature */
	HSK_ST_CLIENT_CERT,
	HSK_ST_CLIENT_KEY_EXCHANGE,
	HSK_ST_KX_DERIVE,      /* job: premaster from ClientKeyExchange */
	HSK_ST_CERT_VERIFY,
	HSK_ST_CCS,
	HSK_ST_FINISHED,
	HSK_ST13_KX,           /* job: TLS 1.3 key share (keygen + derive) */
	HSK_ST13_SIGN,         /* job: TLS 1.3 CertificateVerify signature */
	HSK_ST_ESTABLISHED,
	HSK_ST_CLOSED,
	HSK_ST_FAILED,
};

/* Refused 0-RTT data (RFC 8446 4.2.10): the client's early records are
 * skipped, up to this many bytes on the wire; more is unexpected_message. */
#define HSK13_EARLY_SKIP_MAX 32768
/* KeyUpdates taken in a row without application data between them. */
#define HSK13_MAX_KEY_UPDATES 32

struct hsk_conn {
	struct hsk_conn *pool_next;
	const struct hsk_ctx *ctx;
	struct hsk_worker *w;
	void *user;
	uint8_t state;
	bool resumed;
	bool ems;
	bool etm;
	bool reneg;            /* client signalled RFC 5746 support */
	bool peer_closed;
	bool completed;         /* the handshake ended (stays once closed) */
	bool sent_close;
	bool client_cert;      /* a verified client certificate */
	bool half_close;       /* hsk_conn_set_half_close */
	bool job_pending;
	bool any_record;       /* a first record arrived */
	uint8_t warn_alerts;   /* consecutive warning alerts */
	uint8_t reneg_refused; /* TLS 1.2 renegotiation attempts refused */
	uint8_t key_updates;   /* TLS 1.3 KeyUpdates since the last application data */
	hsk_err err;           /* sticky failure */
	uint32_t gen;
	uint64_t started_s;
	uint16_t client_version;
	uint16_t version;      /* negotiated: 0x0303 or 0x0304 */
	bool hrr;              /* a HelloRetryRequest was sent */
	bool ccs_sent;         /* TLS 1.3 middlebox-compatibility CCS */
	bool issue_ticket;     /* TLS 1.2: NewSessionTicket before our Finished */
	bool psk_ke;           /* TLS 1.3 resumption without (EC)DHE */
	uint8_t client_psk_modes; /* HSK_PSK_* the client offered */
	bool psk_modes_absent; /* no psk_key_exchange_modes: tickets are still sent */
	uint16_t psk_identity; /* index of the accepted PSK */
	uint32_t early_skip;   /* TLS 1.3: bytes of refused 0-RTT records still skippable */
	bool store_asked;      /* the session store was asked for this ClientHello's session */
	bool hello_kept;       /* a store lookup is out: the ClientHello stays to run again */
	bool resumed_store13;  /* TLS 1.3: resumed from the store identity store_id13 */
	uint16_t sigalg;
	uint16_t group;
	const struct hsk_suite *suite;
	size_t cert;
	bool status_req;       /* the client asked for OCSP (status_request, RFC 6066 8) */
	bool staple;           /* full handshake: the certificate's OCSP response goes out */
	uint32_t sni_digest;   /* hsk_names_digest of the server name: sessions keep it */

	/* input: records arrive in in[in_off..in_len) */
	size_t in_off, in_len;
	/* decrypted application data not yet read: a view into in[] */
	const uint8_t *app_p;
	size_t app_n;
	/* handshake message reassembly */
	uint8_t *hs;
	size_t hs_len;
	size_t hs_cap;
	/* output: out[out_off..out_len) waits to be sent */
	size_t out_off, out_len;

	struct rec_dir rd, wr;
	/* key material waiting for ChangeCipherSpec */
	uint8_t key_block[2 * (48 + 32 + 12)];

	EVP_MD_CTX *transcript;
	uint8_t *raw;          /* raw transcript, kept only while a client certificate may come */
	size_t raw_len;
	EVP_PKEY *peer_key;    /* client certificate's key until CertificateVerify */

	uint8_t client_random[32];
	uint8_t server_random[32];
	uint8_t session_id[32];
	uint8_t session_id_len;
	uint8_t store_id13[HSK_SESS_ID_LEN];
	uint8_t master[48];
	/* TLS 1.3 key schedule: handshake then master secret, and the
	 * traffic secrets (kept for Finished keys and KeyUpdate) */
	uint8_t secret13[64];
	uint8_t c_traffic[64];
	uint8_t s_traffic[64];
	uint8_t cookie[32];

	struct acc_job job;
	struct acc_eph eph;
	/* digest to sign, or the peer's public value / RSA ciphertext; the
	 * largest: an X25519MLKEM768 client share (1216 bytes) */
	uint8_t job_in[1280];
	/* our public value, a signature, or the premaster; TLS 1.3: our share
	 * (up to HSK13_SHARE_CAP: an X25519MLKEM768 one is 1120 bytes), then
	 * the shared secret */
	uint8_t job_out[HSK13_SHARE_CAP + 512];
	uint8_t params[1024];   /* ServerKeyExchange params (signed) */
	size_t params_len;

	struct hsk_store_lookup lookup;

	char sni[256];
	char alpn[32];
	char client_cn[65];    /* RFC 5280 ub-common-name is 64 */

	uint8_t in[HSK_IN_CAP];
	uint8_t out[HSK_OUT_CAP];
};

static inline size_t
hsk_transcript_cap(const struct hsk_conn *c)
{
	return 2 * (size_t)c->ctx->max_hs_msg + HSK_TRANSCRIPT_SLACK;
}

/* hsk_conn.c: output helpers used by the message code */
HSK_MUST_CHECK hsk_err hsk_out_hs(struct hsk_conn *c, uint8_t type, const uint8_t *body, size_t len);
HSK_MUST_CHECK hsk_err hsk_out_record(struct hsk_conn *c, uint8_t type, const uint8_t *p, size_t len);
void hsk_transcript_add(struct hsk_conn *c, const uint8_t *p, size_t len);
HSK_MUST_CHECK hsk_err hsk_transcript_hash(struct hsk_conn *c, uint8_t *out, size_t *len);
hsk_err hsk_submit(struct hsk_conn *c, uint8_t op, uint16_t alg);

/* hsk_store.c: the engine's side of the session store */
bool hsk_store_wanted(const struct hsk_conn *c, size_t id_len);
HSK_MUST_CHECK hsk_err hsk_store_ask(struct hsk_conn *c, uint16_t version, const uint8_t *id, size_t id_len);
bool hsk_store_take(struct hsk_conn *c, uint16_t version, const uint8_t *id, size_t id_len, struct hsk_sess *s);
void hsk_store_put(struct hsk_conn *c, const struct hsk_sess *s);
bool hsk_store_issues13(const struct hsk_conn *c);
void hsk_store_issue13(struct hsk_conn *c, const struct hsk_ticket *t, uint8_t out[HSK_STORE_ID13_LEN]);
HSK_MUST_CHECK hsk_err hsk_store_psk13(struct hsk_conn *c, const uint8_t *id, bool may_ask, struct hsk_ticket *t,
				       bool *found);
void hsk_store_forget(struct hsk_conn *c);
/* The clock of state sealed for other processes (tickets, store values):
 * wall-clock seconds, shared by a fleet whose hosts booted at different
 * times; now_s (monotonic) where the dataplane does not know the date. */
uint64_t hsk_fleet_now_s(const struct hsk_worker *w);

/* hsk_srv13.c: the TLS 1.3 server messages */
HSK_MUST_CHECK hsk_err hsk_srv13_client_hello(struct hsk_conn *c, const struct hsk_client_hello *ch,
					      const uint8_t *body, size_t len);
HSK_MUST_CHECK hsk_err hsk_srv13_message(struct hsk_conn *c, uint8_t type, const uint8_t *body, size_t len);
HSK_MUST_CHECK hsk_err hsk_srv13_resume(struct hsk_conn *c);
HSK_MUST_CHECK hsk_err hsk_srv13_post_handshake(struct hsk_conn *c, uint8_t type, const uint8_t *body,
						size_t len);

/* hsk_srv12.c: the TLS 1.2 server messages */
HSK_MUST_CHECK hsk_err hsk_srv12_message(struct hsk_conn *c, uint8_t type, const uint8_t *body, size_t len);
HSK_MUST_CHECK hsk_err hsk_srv12_resume(struct hsk_conn *c);
HSK_MUST_CHECK hsk_err hsk_srv12_ccs(struct hsk_conn *c);

#endif
