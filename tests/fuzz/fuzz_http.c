/* Respond mode's HTTP/1.x request parser (dataplane/dp_http.c) fed a byte
 * stream in pieces, as TLS records deliver it.
 *
 * Input: byte 0 chooses the piece size (1..256 bytes, 0 meaning all at
 * once); the rest is the client's decrypted stream. */
#include <stdlib.h>
#include <string.h>

#include "dp_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dp_http h;
	struct dp_http_req req;
	size_t off = 1, piece;
	char head[256];

	if (size < 1)
		return 0;
	piece = data[0] == 0 ? size : data[0];
	dp_http_init(&h);
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece;
		size_t took = dp_http_feed(&h, data + off, n);
		enum dp_http_result r;

		if (took > n || h.len > sizeof(h.buf))
			abort();
		off += took;
		while ((r = dp_http_next(&h, &req)) == DP_HTTP_REQUEST) {
			if (req.minor < 0 || req.minor > 9)
				abort();
			if (dp_http_head(head, sizeof(head), 200, (uint64_t)off, req.keep_alive) == 0)
				abort();
		}
		if (r != DP_HTTP_NONE)
			return 0; /* 400 or 431 and close */
		if (took == 0)
			return 0; /* the head fills the buffer: the caller answers 431 */
	}
	return 0;
}
