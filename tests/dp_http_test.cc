// Respond mode's HTTP/1.x request parser and response head.
#include <gtest/gtest.h>

#include <string>

#include "dp_http.h"

namespace {

struct Parser {
	dp_http h;
	Parser() { dp_http_init(&h); }
	size_t feed(const std::string &s) { return dp_http_feed(&h, (const uint8_t *)s.data(), s.size()); }
	dp_http_result next(dp_http_req *r) { return dp_http_next(&h, r); }
};

TEST(DpHttp, SimpleKeepAliveRequest)
{
	Parser p;
	dp_http_req r;
	p.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	ASSERT_EQ(p.next(&r), DP_HTTP_REQUEST);
	EXPECT_TRUE(r.keep_alive);
	EXPECT_FALSE(r.head);
	EXPECT_EQ(r.minor, 1);
	EXPECT_EQ(p.next(&r), DP_HTTP_NONE);
}

TEST(DpHttp, ConnectionCloseAndHttp10)
{
	Parser p;
	dp_http_req r;
	p.feed("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n");
	ASSERT_EQ(p.next(&r), DP_HTTP_REQUEST);
	EXPECT_FALSE(r.keep_alive);
	p.feed("GET / HTTP/1.0\r\n\r\n");
	ASSERT_EQ(p.next(&r), DP_HTTP_REQUEST);
	EXPECT_FALSE(r.keep_alive);
	p.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	ASSERT_EQ(p.next(&r), DP_HTTP_REQUEST);
	EXPECT_TRUE(r.keep_alive);
	p.feed("HEAD /x HTTP/1.1\r\nConnection: foo, close\r\n\r\n");
	ASSERT_EQ(p.next(&r), DP_HTTP_REQUEST);
	EXPECT_TRUE(r.head);
	EXPECT_FALSE(r.keep_alive);
}

TEST(DpHttp, SplitAnywhereAndBareLf)
{
	std::string req = "GET /path?q=1 HTTP/1.1\nHost: example\n\n";
	for (size_t cut = 1; cut < req.size(); cut++) {
		Parser p;
		dp_http_req r;
		p.feed(req.substr(0, cut));
		EXPECT_EQ(p.next(&r), DP_HTTP_NONE) << cut;
		p.feed(req.substr(cut));
		EXPECT_EQ(p.next(&r), DP_HTTP_REQUEST) << cut;
	}
}

TEST(DpHttp, PipelinedRequestsAndBodies)
{
	Parser p;
	dp_http_req r;
	p.feed("POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\nConnection: close\r\n\r\n");
	ASSERT_EQ(p.next(&r), DP_HTTP_REQUEST);
	ASSERT_EQ(p.next(&r), DP_HTTP_REQUEST);
	EXPECT_TRUE(r.keep_alive);
	ASSERT_EQ(p.next(&r), DP_HTTP_REQUEST);
	EXPECT_FALSE(r.keep_alive);
	EXPECT_EQ(p.next(&r), DP_HTTP_NONE);
	// a body arriving later is skipped as it comes
	p.feed("PUT /d HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345");
	ASSERT_EQ(p.next(&r), DP_HTTP_REQUEST);
	p.feed("67890GET / HTTP/1.1\r\n\r\n");
	ASSERT_EQ(p.next(&r), DP_HTTP_REQUEST);
	EXPECT_EQ(p.next(&r), DP_HTTP_NONE);
}

TEST(DpHttp, NotHttp)
{
	for (const char *bad : { "\x16\x03\x01\x00\x10hello\r\n\r\n", "GET / SPDY/3\r\n\r\n", "GET / HTTP/2.0\r\n\r\n",
				 "GET\r\n\r\n", "G@T / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
				 "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
				 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" }) {
		Parser p;
		dp_http_req r;
		p.feed(bad);
		EXPECT_EQ(p.next(&r), DP_HTTP_BAD) << bad;
	}
	// binary garbage is refused before a whole head arrives
	Parser p;
	dp_http_req r;
	p.feed(std::string("\x16\x03\x01", 3));
	EXPECT_EQ(p.next(&r), DP_HTTP_BAD);
}

TEST(DpHttp, HeadTooLarge)
{
	Parser p;
	dp_http_req r;
	std::string big = "GET / HTTP/1.1\r\nX: " + std::string(DP_HTTP_MAX_HEAD, 'a');
	size_t taken = p.feed(big);
	EXPECT_EQ(taken, (size_t)DP_HTTP_MAX_HEAD);
	EXPECT_EQ(p.next(&r), DP_HTTP_TOO_LARGE);
}

TEST(DpHttp, ResponseHead)
{
	char buf[256];
	size_t n = dp_http_head(buf, sizeof(buf), 200, 1234, true);
	std::string h(buf, n);
	EXPECT_EQ(h.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
	EXPECT_NE(h.find("Content-Length: 1234\r\n"), std::string::npos);
	EXPECT_NE(h.find("Connection: keep-alive\r\n"), std::string::npos);
	EXPECT_EQ(h.substr(h.size() - 4), "\r\n\r\n");
	n = dp_http_head(buf, sizeof(buf), 400, 0, false);
	EXPECT_NE(std::string(buf, n).find("400 Bad Request"), std::string::npos);
	EXPECT_EQ(dp_http_head(buf, 10, 200, 0, true), 0u);
}

} // namespace
