// ClientHello decoding and the server's TLS 1.2 choices from it:
// hsk_client_hello_decode, then hsk_client_hello_version and
// hsk_client_hello_choose12 / hsk_client_hello_alpn against a listener
// with an RSA and an ECDSA certificate. (TLS 1.3 negotiation is reached
// through the engine: fuzz_engine.)
//
// Input: byte 0 chooses the listener (fuzz_engine.h's Variant); the rest
// is the ClientHello body (after the 4-byte handshake header).
#include "fuzz_engine.h"

extern "C" {
#include "hsk_client_hello.h"
#include "hsk_suite.h"
}

extern "C" int
LLVMFuzzerInitialize(int *, char ***)
{
	for (int v = 0; v < fuzz_engine::V_COUNT; v++)
		(void)fuzz_engine::server(v);
	return 0;
}

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const hsk_ctx &ctx = fuzz_engine::server(data[0] % fuzz_engine::V_COUNT).ctx;
	hsk_client_hello ch;
	uint16_t version;
	if (hsk_client_hello_decode(data + 1, size - 1, &ch) != HSK_OK)
		return 0;
	// A decoded hello's views stay inside the message (the decoder's contract).
	const uint8_t *lo = data + 1, *hi = data + size;
	for (const hsk_view *v : { &ch.session_id, &ch.suites, &ch.compressions, &ch.extensions, &ch.sigalgs,
				   &ch.groups, &ch.key_shares, &ch.psk, &ch.alpn })
		if (v->len > 0 && (v->base < lo || v->base + v->len > hi))
			abort();
	if (ch.session_id.len > 32 || ch.suites.len % 2 != 0)
		abort();
	if (hsk_client_hello_version(&ch, &ctx, &version) != HSK_OK)
		return 0;
	if (version != 0x0303 && version != 0x0304)
		abort();
	hsk_view alpn;
	hsk_client_hello_alpn(&ch, &ctx, &alpn);
	if (version == 0x0303) {
		hsk_choice choice;
		if (hsk_client_hello_choose12(&ch, &ctx, &choice) == HSK_OK) {
			// the choice is one the client offered and the listener has
			if (!hsk_view_has16(ch.suites, choice.suite->id) || choice.cert >= ctx.n_certs)
				abort();
		}
	}
	return 0;
}
