/* Alert names for logs and tests (RFC 8446 6, RFC 5246 7.2). */
#include "hsk_err.h"

const char *
hsk_alert_name(uint8_t alert)
{
	switch (alert) {
	case HSK_AD_CLOSE_NOTIFY: return "close_notify";
	case HSK_AD_UNEXPECTED_MESSAGE: return "unexpected_message";
	case HSK_AD_BAD_RECORD_MAC: return "bad_record_mac";
	case HSK_AD_RECORD_OVERFLOW: return "record_overflow";
	case HSK_AD_HANDSHAKE_FAILURE: return "handshake_failure";
	case HSK_AD_BAD_CERTIFICATE: return "bad_certificate";
	case HSK_AD_UNSUPPORTED_CERTIFICATE: return "unsupported_certificate";
	case HSK_AD_CERTIFICATE_REVOKED: return "certificate_revoked";
	case HSK_AD_CERTIFICATE_EXPIRED: return "certificate_expired";
	case HSK_AD_CERTIFICATE_UNKNOWN: return "certificate_unknown";
	case HSK_AD_ILLEGAL_PARAMETER: return "illegal_parameter";
	case HSK_AD_UNKNOWN_CA: return "unknown_ca";
	case HSK_AD_ACCESS_DENIED: return "access_denied";
	case HSK_AD_DECODE_ERROR: return "decode_error";
	case HSK_AD_DECRYPT_ERROR: return "decrypt_error";
	case HSK_AD_PROTOCOL_VERSION: return "protocol_version";
	case HSK_AD_INSUFFICIENT_SECURITY: return "insufficient_security";
	case HSK_AD_INTERNAL_ERROR: return "internal_error";
	case HSK_AD_INAPPROPRIATE_FALLBACK: return "inappropriate_fallback";
	case HSK_AD_USER_CANCELED: return "user_canceled";
	case HSK_AD_NO_RENEGOTIATION: return "no_renegotiation";
	case HSK_AD_MISSING_EXTENSION: return "missing_extension";
	case HSK_AD_UNSUPPORTED_EXTENSION: return "unsupported_extension";
	case HSK_AD_UNRECOGNIZED_NAME: return "unrecognized_name";
	case HSK_AD_UNKNOWN_PSK_IDENTITY: return "unknown_psk_identity";
	case HSK_AD_CERTIFICATE_REQUIRED: return "certificate_required";
	case HSK_AD_NO_APPLICATION_PROTOCOL: return "no_application_protocol";
	default: return "unknown_alert";
	}
}
