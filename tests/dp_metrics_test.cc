// The Prometheus text exposition (format 0.0.4) of dp_metrics: a snapshot
// made by hand is rendered and parsed back by a small parser of the
// format's grammar; the workers' latency buckets; and the control
// thread's HTTP answers on a loopback port.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "dp_conn.h"
#include "dp_metrics.h"
#include "hsk_suite.h"

namespace {

struct sample {
	std::string name;
	std::map<std::string, std::string> labels;
	double value;
};

bool
name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
	       (!first && c >= '0' && c <= '9');
}

// A metric (colon) or label name at l[*i]; empty when none.
std::string
take_name(const std::string &l, size_t *i, bool colon)
{
	size_t b = *i;
	while (*i < l.size() && name_char(l[*i], *i == b, colon))
		(*i)++;
	return l.substr(b, *i - b);
}

// One sample line of the format's grammar: name, {label="value",...}, a
// space, a value. false when the line is outside it.
bool
parse_sample(const std::string &l, sample *s)
{
	size_t i = 0;
	s->name = take_name(l, &i, true);
	if (s->name.empty())
		return false;
	if (i < l.size() && l[i] == '{') {
		i++;
		while (i < l.size() && l[i] != '}') {
			std::string k = take_name(l, &i, false), v;
			if (k.empty() || l.compare(i, 2, "=\"") != 0)
				return false;
			for (i += 2; i < l.size() && l[i] != '"'; i++) {
				if (l[i] == '\n')
					return false;
				if (l[i] == '\\') {
					if (i + 1 >= l.size() || (l[i + 1] != '\\' && l[i + 1] != '"' && l[i + 1] != 'n'))
						return false;
					v += l[i];
					i++;
				}
				v += l[i];
			}
			if (i >= l.size())
				return false;
			i++; // the closing quote
			s->labels[k] = v;
			if (i < l.size() && l[i] == ',')
				i++;
		}
		if (i >= l.size())
			return false;
		i++; // '}'
	}
	if (i >= l.size() || l[i] != ' ')
		return false;
	std::string v = l.substr(i + 1);
	if (v == "+Inf") {
		s->value = INFINITY;
		return true;
	}
	char *end = NULL;
	s->value = strtod(v.c_str(), &end);
	return !v.empty() && *end == '\0';
}

// Parse an exposition; fails the test on any line outside the grammar,
// a sample before its family's TYPE, a family typed twice, or a counter
// not named *_total.
std::vector<sample>
parse(const std::string &text)
{
	std::map<std::string, std::string> types;
	std::vector<sample> out;
	size_t pos = 0;

	EXPECT_FALSE(text.empty());
	EXPECT_EQ(text.back(), '\n');
	while (pos < text.size()) {
		size_t nl = text.find('\n', pos);
		std::string l = text.substr(pos, nl - pos);
		pos = nl + 1;
		if (l.rfind("# TYPE ", 0) == 0) {
			size_t i = 7;
			std::string name = take_name(l, &i, true), type = i < l.size() ? l.substr(i + 1) : "";
			EXPECT_FALSE(name.empty()) << l;
			EXPECT_TRUE(type == "counter" || type == "gauge" || type == "histogram") << l;
			EXPECT_EQ(types.count(name), 0u) << "typed twice: " << l;
			types[name] = type;
			if (type == "counter") {
				EXPECT_TRUE(name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0) << l;
			}
			continue;
		}
		if (l.rfind("# HELP ", 0) == 0) {
			size_t i = 7;
			EXPECT_FALSE(take_name(l, &i, true).empty()) << l;
			EXPECT_TRUE(i + 1 < l.size() && l[i] == ' ') << l;
			continue;
		}
		sample s;
		if (!parse_sample(l, &s)) {
			ADD_FAILURE() << "not a sample: " << l;
			continue;
		}
		std::string fam = s.name;
		for (const char *suf : { "_bucket", "_sum", "_count" }) {
			size_t k = strlen(suf);
			if (types.count(fam) == 0 && fam.size() > k && fam.compare(fam.size() - k, k, suf) == 0 &&
			    types.count(fam.substr(0, fam.size() - k)) && types[fam.substr(0, fam.size() - k)] == "histogram")
				fam = fam.substr(0, fam.size() - k);
		}
		EXPECT_EQ(types.count(fam), 1u) << "sample before its TYPE: " << l;
		out.push_back(s);
	}
	return out;
}

TEST(DpMetrics, TheTestsParserRefusesWhatTheGrammarDoesNot)
{
	sample s;
	EXPECT_TRUE(parse_sample("a_b{x=\"1\",y=\"q\\\"\"} 2.5", &s));
	EXPECT_EQ(s.labels["y"], "q\\\"");
	EXPECT_FALSE(parse_sample("1a 2", &s));
	EXPECT_FALSE(parse_sample("a{x=1} 2", &s));
	EXPECT_FALSE(parse_sample("a{x=\"1\"} ", &s));
	EXPECT_FALSE(parse_sample("a{x=\"\\t\"} 1", &s));
	EXPECT_FALSE(parse_sample("a 1x", &s));
	EXPECT_FALSE(parse_sample("a{x=\"1\" 1", &s));
}

double
value(const std::vector<sample> &v, const std::string &name, const std::map<std::string, std::string> &labels = {})
{
	for (const sample &s : v)
		if (s.name == name && s.labels == labels)
			return s.value;
	ADD_FAILURE() << "no sample " << name;
	return NAN;
}

std::string
render(const struct dp_mx_snap *s)
{
	struct dp_mx_buf b = {};
	b.max = 1 << 22;
	dp_mx_render(&b, s);
	EXPECT_FALSE(b.oom);
	std::string out(b.p, b.len);
	free(b.p);
	return out;
}

size_t
suite_row(uint16_t id)
{
	size_t n;
	const struct hsk_suite *all = hsk_suite_all(&n);
	return (size_t)(hsk_suite_by_id(id) - all);
}

TEST(DpMetrics, RendersASnapshotThatParses)
{
	static struct dp_mx_snap s; // large: not on the stack
	memset(&s, 0, sizeof(s));
	s.dataplane = "kernel";
	s.n_workers = 2;
	s.w[0] = { 1.5, 10.25, 0, 0, false, 3, 1 };
	s.w[1] = { 0.5, 11.0, 0, 0, false, 2, 0 };
	s.sum.hs[suite_row(0x1301)][0] = 7;
	s.sum.hs[suite_row(0x1301)][1] = 2;
	s.sum.hs[suite_row(0xc02f)][0] = 4;
	s.sum.hs_fail[40] = 3;
	s.sum.hs_fail[256] = 1;
	s.sum.lat[0] = 2;
	s.sum.lat[3] = 5;
	s.sum.lat[DP_MX_BUCKETS] = 1; // above the last bound
	s.sum.lat_sum_ns = 2500000000u;
	s.acc.batches = 9;
	s.acc.lanes_filled = 13;
	s.proxy = true;
	s.bytes_up = 100;
	s.bytes_down = 2000;
	s.connect_failures = 6;
	s.n_backends = 2;
	s.be[0] = { "127.0.0.1:8080", 2 };
	s.be[1] = { "we\"ird\\name\n", 0 };
	std::vector<sample> v = parse(render(&s));

	EXPECT_EQ(value(v, "tlso_handshakes_total",
			{ { "version", "1.3" }, { "suite", "TLS_AES_128_GCM_SHA256" }, { "resumed", "false" } }),
		  7);
	EXPECT_EQ(value(v, "tlso_handshakes_total",
			{ { "version", "1.3" }, { "suite", "TLS_AES_128_GCM_SHA256" }, { "resumed", "true" } }),
		  2);
	EXPECT_EQ(value(v, "tlso_handshakes_total",
			{ { "version", "1.2" }, { "suite", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" }, { "resumed", "false" } }),
		  4);
	EXPECT_EQ(value(v, "tlso_handshake_failures_total", { { "alert", "handshake_failure" } }), 3);
	EXPECT_EQ(value(v, "tlso_handshake_failures_total", { { "alert", "none" } }), 1);
	EXPECT_EQ(value(v, "tlso_connections_open"), 5);
	EXPECT_EQ(value(v, "tlso_handshakes_in_progress"), 1);
	EXPECT_EQ(value(v, "tlso_crypto_batches_total"), 9);
	EXPECT_EQ(value(v, "tlso_crypto_batch_lanes_filled_total"), 13);
	EXPECT_EQ(value(v, "tlso_worker_idle_seconds_total", { { "worker", "1" } }), 11.0);
	EXPECT_EQ(value(v, "tlso_proxy_bytes_total", { { "direction", "from_backend" } }), 2000);
	EXPECT_EQ(value(v, "tlso_backend_connect_failures_total"), 6);
	EXPECT_EQ(value(v, "tlso_backend_up", { { "backend", "127.0.0.1:8080" } }), 1);
	// the label value's escapes, as written: \" \\ \n
	EXPECT_EQ(value(v, "tlso_backend_up", { { "backend", "we\\\"ird\\\\name\\n" } }), 0);
	// the histogram: cumulative buckets, +Inf equal to _count
	EXPECT_EQ(value(v, "tlso_handshake_duration_seconds_bucket", { { "le", "0.0005" } }), 2);
	EXPECT_EQ(value(v, "tlso_handshake_duration_seconds_bucket", { { "le", "0.001" } }), 2);
	EXPECT_EQ(value(v, "tlso_handshake_duration_seconds_bucket", { { "le", "0.005" } }), 7);
	EXPECT_EQ(value(v, "tlso_handshake_duration_seconds_bucket", { { "le", "10" } }), 7);
	EXPECT_EQ(value(v, "tlso_handshake_duration_seconds_bucket", { { "le", "+Inf" } }), 8);
	EXPECT_EQ(value(v, "tlso_handshake_duration_seconds_count"), 8);
	EXPECT_DOUBLE_EQ(value(v, "tlso_handshake_duration_seconds_sum"), 2.5);
	double prev = 0;
	int buckets = 0;
	for (const sample &x : v) {
		if (x.name != "tlso_handshake_duration_seconds_bucket")
			continue;
		EXPECT_GE(x.value, prev);
		prev = x.value;
		buckets++;
	}
	EXPECT_EQ(buckets, DP_MX_BUCKETS + 1);
}

TEST(DpMetrics, NoProxyFamiliesInRespondMode)
{
	static struct dp_mx_snap s;
	memset(&s, 0, sizeof(s));
	s.n_workers = 1;
	std::string text = render(&s);
	parse(text);
	EXPECT_EQ(text.find("tlso_proxy_bytes_total"), std::string::npos);
	EXPECT_EQ(text.find("tlso_dpdk_busy_cycles_total"), std::string::npos);
}

TEST(DpMetrics, SessionStoreLookupsAndOutcomes)
{
	static struct dp_mx_snap s;
	memset(&s, 0, sizeof(s));
	s.n_workers = 1;
	s.store_lookups = 10;
	s.store_hits = 6;
	s.store_misses = 3;
	s.store_failed = 1;
	std::vector<sample> v = parse(render(&s));
	EXPECT_EQ(value(v, "tlso_session_store_lookups_total"), 10);
	EXPECT_EQ(value(v, "tlso_session_store_results_total", { { "result", "resumed" } }), 6);
	EXPECT_EQ(value(v, "tlso_session_store_results_total", { { "result", "missed" } }), 3);
	EXPECT_EQ(value(v, "tlso_session_store_results_total", { { "result", "failed" } }), 1);
}

TEST(DpMetrics, DpdkCyclesPerWorker)
{
	static struct dp_mx_snap s;
	memset(&s, 0, sizeof(s));
	s.n_workers = 2;
	s.w[0] = { 1.0, 2.0, 1000, 2000, true, 0, 0 };
	s.w[1] = { 1.0, 2.0, 1001, 2001, true, 0, 0 };
	std::vector<sample> v = parse(render(&s));
	EXPECT_EQ(value(v, "tlso_dpdk_busy_cycles_total", { { "worker", "1" } }), 1001);
	EXPECT_EQ(value(v, "tlso_dpdk_idle_cycles_total", { { "worker", "0" } }), 2000);
}

TEST(DpMetrics, LatencyBucketsIncludeTheirUpperBound)
{
	struct dp_mx *m = dp_mx_new();
	ASSERT_NE(m, nullptr);
	EXPECT_EQ((uintptr_t)m % 64, 0u);
	dp_mx_handshake(m, 0x1301, false, 400000);      // 0.4 ms
	dp_mx_handshake(m, 0x1301, true, 500000);       // 0.5 ms: le="0.0005"
	dp_mx_handshake(m, 0x1302, false, 500001);      // le="0.001"
	dp_mx_handshake(m, 0x1301, false, 7000000000u); // le="10"
	dp_mx_handshake(m, 0xffff, false, 20000000000u); // unknown suite; +Inf
	EXPECT_EQ(m->lat[0], 2u);
	EXPECT_EQ(m->lat[1], 1u);
	EXPECT_EQ(m->lat[DP_MX_BUCKETS - 1], 1u);
	EXPECT_EQ(m->lat[DP_MX_BUCKETS], 1u);
	EXPECT_EQ(m->lat_sum_ns, 400000u + 500000u + 500001u + 7000000000u + 20000000000u);
	EXPECT_EQ(m->hs[suite_row(0x1301)][0], 2u);
	EXPECT_EQ(m->hs[suite_row(0x1301)][1], 1u);
	EXPECT_EQ(m->hs[suite_row(0x1302)][0], 1u);
	dp_mx_handshake_failed(m, 40);
	dp_mx_handshake_failed(m, -1);
	EXPECT_EQ(m->hs_fail[40], 1u);
	EXPECT_EQ(m->hs_fail[256], 1u);
	dp_mx_free(m);
}

// ---- the control thread ----

uint16_t
free_port()
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {};
	socklen_t len = sizeof(a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	EXPECT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	EXPECT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

std::string
http(uint16_t port, const std::string &req)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {};
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	EXPECT_EQ(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	EXPECT_EQ(send(fd, req.data(), req.size(), 0), (ssize_t)req.size());
	std::string out;
	char buf[4096];
	ssize_t r;
	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
		out.append(buf, (size_t)r);
	close(fd);
	return out;
}

class DpMetricsServer : public ::testing::Test {
protected:
	void SetUp() override
	{
		cfg_init(&cfg);
		port = free_port();
		struct sockaddr_in *sin = (struct sockaddr_in *)&cfg.metrics.sa;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cfg.metrics.family = AF_INET;
		cfg.metrics.sa_len = sizeof(*sin);
		cfg.metrics.port = port;
		strcpy(cfg.metrics.host, "127.0.0.1");
		cfg.metrics_on = true;
		app = (struct dp_app *)calloc(1, sizeof(*app));
		app->mx = dp_mx_new();
		app->n_conns = 4;
		app->stats.accepted = 11;
		dp_mx_handshake(app->mx, 0x1303, false, 1000000);
		src = { app, NULL, NULL, 0 };
		m = dp_metrics_start(&cfg, &src, 1, "kernel");
		ASSERT_NE(m, nullptr);
	}
	void TearDown() override
	{
		dp_metrics_stop(m);
		dp_mx_free(app->mx);
		free(app);
		cfg_free(&cfg);
	}
	struct cfg cfg;
	uint16_t port;
	struct dp_app *app;
	struct dp_mx_src src;
	struct dp_metrics *m = nullptr;
};

TEST_F(DpMetricsServer, ServesMetrics)
{
	std::string r = http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	ASSERT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
	EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
	size_t body = r.find("\r\n\r\n");
	ASSERT_NE(body, std::string::npos);
	std::vector<sample> v = parse(r.substr(body + 4));
	EXPECT_EQ(value(v, "tlso_connections_open"), 4);
	EXPECT_EQ(value(v, "tlso_connections_accepted_total"), 11);
	EXPECT_EQ(value(v, "tlso_handshakes_total",
			{ { "version", "1.3" }, { "suite", "TLS_CHACHA20_POLY1305_SHA256" }, { "resumed", "false" } }),
		  1);
	// the next scrape sees the worker's new counts
	dp_mx_handshake(app->mx, 0x1303, false, 1000000);
	r = http(port, "GET /metrics?x=1 HTTP/1.0\n\n");
	v = parse(r.substr(r.find("\r\n\r\n") + 4));
	EXPECT_EQ(value(v, "tlso_handshake_duration_seconds_count"), 2);
}

TEST_F(DpMetricsServer, OtherPathsAndMethodsAreRefused)
{
	EXPECT_EQ(http(port, "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0), 0u);
	EXPECT_EQ(http(port, "GET /metricsx HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0), 0u);
	EXPECT_EQ(http(port, "POST /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405 ", 0), 0u);
	EXPECT_EQ(http(port, "garbage\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
	std::string head = http(port, "HEAD /metrics HTTP/1.1\r\n\r\n");
	EXPECT_EQ(head.rfind("HTTP/1.1 200 ", 0), 0u);
	EXPECT_EQ(head.size(), head.find("\r\n\r\n") + 4); // no body
}

TEST_F(DpMetricsServer, OversizedRequestIsCut)
{
	std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(5000, 'a') + "\r\n\r\n";
	EXPECT_EQ(http(port, big).rfind("HTTP/1.1 431 ", 0), 0u);
}

} // namespace
