/* One integer error space for the engine (in the manner of picotls):
 * 0 is success; the class is in bits 8..15; for alerts the low byte is the
 * TLS AlertDescription (RFC 5246 7.2, RFC 8446 6). "Want input" and "want
 * crypto" are not failures: the caller feeds more bytes or flushes the
 * executor and resumes. */
#ifndef HSK_ERR_H
#define HSK_ERR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HSK_MUST_CHECK __attribute__((warn_unused_result))

typedef int hsk_err;

enum {
	HSK_OK = 0,
	HSK_CLASS_ALERT = 0x100,      /* we send this fatal alert and close */
	HSK_CLASS_PEER_ALERT = 0x200, /* the peer sent this fatal alert */
	HSK_CLASS_STATE = 0x400,
	HSK_WANT_INPUT = 0x401,       /* blocked on bytes from the peer */
	HSK_WANT_CRYPTO = 0x402,      /* a crypto job is queued on the executor */
	HSK_CLOSED = 0x403,           /* close_notify exchanged; no more data */
};

#define HSK_ALERT(a) (HSK_CLASS_ALERT | (a))
#define HSK_PEER_ALERT(a) (HSK_CLASS_PEER_ALERT | (a))
#define HSK_ERR_CLASS(e) ((e) & 0xff00)
#define HSK_IS_ALERT(e) (HSK_ERR_CLASS(e) == HSK_CLASS_ALERT)
#define HSK_IS_PEER_ALERT(e) (HSK_ERR_CLASS(e) == HSK_CLASS_PEER_ALERT)
#define HSK_ALERT_CODE(e) ((uint8_t)((e)&0xff))

/* AlertDescription values used by the server. */
enum hsk_alert {
	HSK_AD_CLOSE_NOTIFY = 0,
	HSK_AD_UNEXPECTED_MESSAGE = 10,
	HSK_AD_BAD_RECORD_MAC = 20,
	HSK_AD_RECORD_OVERFLOW = 22,
	HSK_AD_HANDSHAKE_FAILURE = 40,
	HSK_AD_BAD_CERTIFICATE = 42,
	HSK_AD_UNSUPPORTED_CERTIFICATE = 43,
	HSK_AD_CERTIFICATE_REVOKED = 44,
	HSK_AD_CERTIFICATE_EXPIRED = 45,
	HSK_AD_CERTIFICATE_UNKNOWN = 46,
	HSK_AD_ILLEGAL_PARAMETER = 47,
	HSK_AD_UNKNOWN_CA = 48,
	HSK_AD_ACCESS_DENIED = 49,
	HSK_AD_DECODE_ERROR = 50,
	HSK_AD_DECRYPT_ERROR = 51,
	HSK_AD_PROTOCOL_VERSION = 70,
	HSK_AD_INSUFFICIENT_SECURITY = 71,
	HSK_AD_INTERNAL_ERROR = 80,
	HSK_AD_INAPPROPRIATE_FALLBACK = 86,
	HSK_AD_USER_CANCELED = 90,
	HSK_AD_NO_RENEGOTIATION = 100,
	HSK_AD_MISSING_EXTENSION = 109,
	HSK_AD_UNSUPPORTED_EXTENSION = 110,
	HSK_AD_UNRECOGNIZED_NAME = 112,
	HSK_AD_UNKNOWN_PSK_IDENTITY = 115,
	HSK_AD_CERTIFICATE_REQUIRED = 116,
	HSK_AD_NO_APPLICATION_PROTOCOL = 120,
};

/* Name of an alert for logs and tests ("decode_error"); never NULL. */
const char *hsk_alert_name(uint8_t alert);

#ifdef __cplusplus
}
#endif
#endif
