// The whole engine fed a client byte stream from the first byte: record
// framing, the ClientHello (TLS 1.2 and 1.3, HelloRetryRequest), and every
// message the client sends in plaintext (TLS 1.2 Certificate,
// ClientKeyExchange, ChangeCipherSpec; a TLS 1.3 client's CCS and the
// records it protects are refused or skipped as the RFCs say).
//
// Input: byte 0 chooses the listener (bits 0-1, fuzz_engine.h's Variant)
// and how TCP delivers the stream (bits 2-3: whole, 1, 7 or 1000-byte
// pieces); the rest is the client's bytes. Seeds: real libssl clients'
// flights (tests/fuzz/README.md, fuzz_capture).
#include "fuzz_engine.h"

namespace {

SSL_CTX *
dummy_client()
{
	// hsk_test::Pair wants a client; it stays silent here.
	static SSL_CTX *c = hsk_test::client_ctx(TLS1_3_VERSION);
	return c;
}

} // namespace

extern "C" int
LLVMFuzzerInitialize(int *, char ***)
{
	for (int v = 0; v < fuzz_engine::V_COUNT; v++)
		(void)fuzz_engine::server(v);
	(void)dummy_client();
	return 0;
}

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[4] = { SIZE_MAX, 1, 7, 1000 };

	if (size < 1)
		return 0;
	hsk_test::Pair p(fuzz_engine::server(data[0] & 3), dummy_client());
	fuzz_engine::feed(p, data + 1, size - 1, chunks[(data[0] >> 2) & 3]);
	fuzz_engine::finish(p);
	return 0;
}
