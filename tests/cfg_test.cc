// Configuration: YAML file, command line, validation, value parsers.
#include <arpa/inet.h>
#include <dirent.h>
#include <ftw.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" {
#include "cfg.h"
#include "cfg_value.h"
#include "tlso_build.h"
}

namespace {

int
rm_entry(const char *path, const struct stat *, int, struct FTW *)
{
	return remove(path);
}

// A temporary directory, removed with its content at the end of the test.
class TempDir {
      public:
	TempDir()
	{
		char tmpl[] = "/tmp/cfg_test.XXXXXX";
		const char *d = mkdtemp(tmpl);
		if (d == nullptr)
			abort();
		path_ = d;
	}
	~TempDir() { nftw(path_.c_str(), rm_entry, 16, FTW_DEPTH | FTW_PHYS); }
	const std::string &path() const { return path_; }
	std::string write(const std::string &name, const std::string &text) const
	{
		std::string p = path_ + "/" + name;
		std::string dir = p.substr(0, p.rfind('/'));
		for (size_t i = path_.size() + 1; i < dir.size(); i++) {
			if (dir[i] == '/')
				mkdir(dir.substr(0, i).c_str(), 0700);
		}
		mkdir(dir.c_str(), 0700);
		FILE *f = fopen(p.c_str(), "w");
		if (f == nullptr)
			abort();
		fputs(text.c_str(), f);
		fclose(f);
		return p;
	}

      private:
	std::string path_;
};

// A struct cfg that is initialised and freed with the test.
struct Cfg {
	struct cfg c;
	Cfg() { cfg_init(&c); }
	~Cfg() { cfg_free(&c); }
};

// Load YAML text from a file named name; returns cfg_load_file's result.
int
load_text(TempDir &dir, struct cfg *c, const std::string &yaml, std::string *err,
	  const std::string &name = "tls.yaml")
{
	char buf[1024] = "";
	std::string p = dir.write(name, yaml);
	int rc = cfg_load_file(c, p.c_str(), buf, sizeof(buf));
	*err = buf;
	return rc;
}

int
parse(struct cfg *c, std::vector<std::string> args, std::string *err)
{
	std::vector<char *> argv;
	char buf[1024] = "";

	args.insert(args.begin(), "tlsoffload");
	for (auto &a : args)
		argv.push_back(&a[0]);
	argv.push_back(nullptr);
	int rc = cfg_parse_args(c, (int)args.size(), argv.data(), buf, sizeof(buf));
	*err = buf;
	return rc;
}

std::string
validate(const struct cfg *c)
{
	char buf[1024] = "";
	if (cfg_validate(c, buf, sizeof(buf)) == 0)
		return "";
	EXPECT_NE(buf[0], '\0');
	return buf;
}

std::string
print(const struct cfg *c)
{
	char *text = nullptr;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cfg_print(c, f);
	fclose(f);
	std::string s(text, len);
	free(text);
	return s;
}

// Working directory switched to a temp dir holding the demo certificate
// paths of the examples (empty placeholders: cfg_validate checks that the
// files are readable, the engine parses them).
class DemoCwd {
      public:
	DemoCwd()
	{
		char buf[4096];
		if (getcwd(buf, sizeof(buf)) == nullptr)
			abort();
		old_ = buf;
		for (const char *f : {"rsa.crt", "rsa.key", "ecdsa.crt", "ecdsa.key", "ca.crt", "client.crt",
				      "client.key"})
			dir_.write(std::string("build/demo/") + f, "placeholder\n");
		if (chdir(dir_.path().c_str()) != 0)
			abort();
	}
	~DemoCwd()
	{
		if (chdir(old_.c_str()) != 0)
			abort();
	}
	TempDir &dir() { return dir_; }

      private:
	TempDir dir_;
	std::string old_;
};

std::vector<std::string>
example_files()
{
	std::vector<std::string> v;
	DIR *d = opendir(CFG_EXAMPLES_DIR);
	if (d == nullptr)
		return v;
	while (struct dirent *e = readdir(d)) {
		std::string n = e->d_name;
		if (n.size() > 5 && n.substr(n.size() - 5) == ".yaml")
			v.push_back(std::string(CFG_EXAMPLES_DIR) + "/" + n);
	}
	closedir(d);
	std::sort(v.begin(), v.end());
	return v;
}

const struct cfg_listener *
listener(const struct cfg &c, size_t i)
{
	EXPECT_LT(i, c.n_listeners);
	return &c.listeners[i];
}

} // namespace

// ---------------------------------------------------------------- defaults

TEST(CfgDefaults, InitValues)
{
	Cfg c;
	EXPECT_EQ(c.c.dataplane, CFG_DATAPLANE_KERNEL);
	EXPECT_EQ(c.c.mode, CFG_MODE_RESPOND);
	EXPECT_EQ(c.c.workers, 1u);
	EXPECT_EQ(c.c.n_cores, 0u);
	EXPECT_EQ(c.c.n_listeners, 0u);
	EXPECT_EQ(c.c.handshake_timeout_ms, 10000u);
	EXPECT_EQ(c.c.idle_timeout_ms, 60000u);
	EXPECT_EQ(c.c.drain_timeout_ms, 10000u);
	EXPECT_EQ(c.c.max_conns, 10000u);
	EXPECT_EQ(c.c.max_handshakes, 2048u);
	EXPECT_EQ(c.c.conn_buffer, 256u * 1024);
	// A 2^16-1-byte ClientHello fits the default (issue 16).
	EXPECT_GE(c.c.tls.max_handshake_message, 65535u);
	EXPECT_EQ(c.c.session_lifetime_s, 300u);
	EXPECT_EQ(c.c.session_cache_size, (uint32_t)CFG_DEFAULT_SESSION_CACHE);
	EXPECT_EQ(c.c.accel, CFG_ACCEL_AUTO);
	EXPECT_EQ(c.c.log_level, CFG_LOG_INFO);
	EXPECT_TRUE(c.c.tls.resumption);
	EXPECT_EQ(c.c.tls.version_min, 0);
	EXPECT_EQ(c.c.tls.policy, CFG_POLICY_NONE);
	EXPECT_FALSE(c.c.check_config);
}

TEST(CfgDefaults, NoArgumentsListenOnLoopback8443)
{
	Cfg c;
	std::string err;
	ASSERT_EQ(parse(&c.c, {}, &err), CFG_ARGS_OK) << err;
	ASSERT_EQ(c.c.n_listeners, 1u);
	const struct cfg_listener *l = listener(c.c, 0);
	EXPECT_EQ(l->addr.family, AF_INET);
	EXPECT_STREQ(l->addr.host, "127.0.0.1");
	EXPECT_EQ(l->addr.port, 8443);
	auto *sin = (const struct sockaddr_in *)&l->addr.sa;
	EXPECT_EQ(sin->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	EXPECT_EQ(ntohs(sin->sin_port), 8443);
	EXPECT_EQ(l->n_certs, 0u);
	// Without a certificate the configuration is not usable.
	EXPECT_NE(validate(&c.c).find("no certificate"), std::string::npos);
}

TEST(CfgDefaults, FreeIsIdempotent)
{
	struct cfg c;
	cfg_init(&c);
	std::string err;
	ASSERT_EQ(parse(&c, {"--cert", "a.crt", "--key", "a.key", "--ca", "ca.crt"}, &err), CFG_ARGS_OK);
	cfg_free(&c);
	EXPECT_EQ(c.n_listeners, 0u);
	cfg_free(&c);
}

// ---------------------------------------------------------------- examples

TEST(CfgExamples, EveryExampleLoadsAndValidates)
{
	std::vector<std::string> files = example_files();
	ASSERT_GE(files.size(), 3u) << CFG_EXAMPLES_DIR;
	bool seen_min = false, seen_full = false, seen_mtls = false, seen_proxy = false;
	DemoCwd cwd;
	for (const std::string &f : files) {
		Cfg c;
		char err[1024] = "";
		ASSERT_EQ(cfg_load_file(&c.c, f.c_str(), err, sizeof(err)), 0) << err;
		EXPECT_EQ(validate(&c.c), "") << f;
		seen_min |= f.find("/minimal.yaml") != std::string::npos;
		seen_full |= f.find("/full.yaml") != std::string::npos;
		seen_mtls |= f.find("/mtls.yaml") != std::string::npos;
		seen_proxy |= f.find("/proxy.yaml") != std::string::npos;
	}
	EXPECT_TRUE(seen_min && seen_full && seen_mtls && seen_proxy);
}

TEST(CfgExamples, FullHasEveryKey)
{
	Cfg c;
	char err[1024] = "";
	std::string path = std::string(CFG_EXAMPLES_DIR) + "/full.yaml";
	ASSERT_EQ(cfg_load_file(&c.c, path.c_str(), err, sizeof(err)), 0) << err;
	EXPECT_STREQ(c.c.config_file, path.c_str());
	EXPECT_EQ(c.c.workers, 2u);
	EXPECT_EQ(c.c.response_size, 16u * 1024);
	ASSERT_EQ(c.c.n_backends, 2u);
	EXPECT_EQ(c.c.backends[1].family, AF_INET6);
	EXPECT_EQ(c.c.backends[1].port, 8080);
	EXPECT_EQ(c.c.proxy.balance, CFG_BALANCE_ROUNDROBIN);
	EXPECT_EQ(c.c.proxy.connect_timeout_ms, 2000u);
	EXPECT_EQ(c.c.proxy.health_interval_ms, 2000u);
	EXPECT_EQ(c.c.proxy.health_rise, 2u);
	EXPECT_EQ(c.c.proxy.health_fall, 3u);
	EXPECT_EQ(c.c.proxy.proxy_protocol, CFG_PROXY_PROTOCOL_OFF);
	EXPECT_EQ(c.c.session_cache_size, 20480u);
	EXPECT_EQ(c.c.session_lifetime_s, 300u);
	EXPECT_EQ(c.c.tickets, 2u);
	EXPECT_EQ(c.c.ticket_rotation_s, 3600u);
	EXPECT_EQ(c.c.psk_modes, (unsigned)CFG_PSK_DHE_KE);
	EXPECT_EQ(c.c.ticket_key_file, nullptr);
	ASSERT_EQ(c.c.n_eal_args, 5u);
	EXPECT_STREQ(c.c.eal_args[4], "--vdev=net_tap0,iface=tlso0");
	EXPECT_EQ(c.c.dpdk_prefix_len, 24u);
	EXPECT_EQ(c.c.dpdk_gateway, 0xc6120001u); // 198.18.0.1
	EXPECT_EQ(c.c.dpdk_max_conns, 8192u);
	EXPECT_EQ(c.c.max_conns, 10000u);
	EXPECT_EQ(c.c.max_handshakes, 2048u);
	EXPECT_EQ(c.c.conn_buffer, 256u * 1024);
	ASSERT_EQ(c.c.n_listeners, 2u);
	// Listener 0 inherits the top-level tls: section.
	const struct cfg_listener *a = listener(c.c, 0);
	EXPECT_EQ(a->n_certs, 2u);
	EXPECT_EQ(a->tls.version_min, CFG_TLS12);
	EXPECT_EQ(a->tls.version_max, CFG_TLS13);
	EXPECT_EQ(a->tls.policy, CFG_POLICY_INTERMEDIATE);
	ASSERT_EQ(a->tls.n_groups, 5u);
	EXPECT_EQ(cfg_tls_group_id(a->tls.groups[1]), 0x0017);
	EXPECT_EQ(a->tls.n_sigalgs, 6u);
	ASSERT_EQ(a->tls.n_alpn, 1u);
	EXPECT_STREQ(a->tls.alpn[0], "http/1.1");
	EXPECT_TRUE(a->tls.resumption);
	EXPECT_EQ(a->tls.max_handshake_message, 131396u);
	// Listener 1 overrides some of it: ciphers replace the policy.
	const struct cfg_listener *b = listener(c.c, 1);
	EXPECT_EQ(b->addr.family, AF_INET6);
	EXPECT_EQ(b->tls.version_min, CFG_TLS13);
	EXPECT_EQ(b->tls.policy, CFG_POLICY_NONE);
	ASSERT_EQ(b->tls.n_ciphers, 3u);
	EXPECT_STREQ(b->tls.ciphers[2], "TLS_AES_256_GCM_SHA384");
	EXPECT_FALSE(b->tls.resumption);
	EXPECT_EQ(b->tls.max_handshake_message, 32u * 1024);
	EXPECT_EQ(b->tls.n_groups, 5u);
	EXPECT_NE(std::string(b->origin).find("full.yaml:"), std::string::npos);
}

TEST(CfgExamples, MtlsRequiresClientCertificates)
{
	Cfg c;
	char err[1024] = "";
	std::string path = std::string(CFG_EXAMPLES_DIR) + "/mtls.yaml";
	ASSERT_EQ(cfg_load_file(&c.c, path.c_str(), err, sizeof(err)), 0) << err;
	ASSERT_EQ(c.c.n_listeners, 1u);
	EXPECT_EQ(c.c.listeners[0].tls.client_auth, CFG_CLIENT_AUTH_REQUIRE);
	EXPECT_STREQ(c.c.listeners[0].tls.ca_file, "build/demo/ca.crt");
}

TEST(CfgExamples, ProxyIsAPoolWithHeaderAndChecks)
{
	Cfg c;
	char err[1024] = "";
	std::string path = std::string(CFG_EXAMPLES_DIR) + "/proxy.yaml";
	ASSERT_EQ(cfg_load_file(&c.c, path.c_str(), err, sizeof(err)), 0) << err;
	EXPECT_EQ(c.c.mode, CFG_MODE_PROXY);
	EXPECT_EQ(c.c.n_backends, 2u);
	EXPECT_EQ(c.c.proxy.balance, CFG_BALANCE_LEASTCONN);
	EXPECT_EQ(c.c.proxy.proxy_protocol, CFG_PROXY_PROTOCOL_V2);
	EXPECT_EQ(c.c.proxy.health_interval_ms, 1000u);
}

TEST(CfgExamples, PrintReloadsToTheSameConfiguration)
{
	TempDir dir;
	for (const std::string &f : example_files()) {
		Cfg a, b, c;
		char err[1024] = "";
		ASSERT_EQ(cfg_load_file(&a.c, f.c_str(), err, sizeof(err)), 0) << err;
		std::string first = print(&a.c);
		std::string p = dir.write("printed.yaml", first);
		ASSERT_EQ(cfg_load_file(&b.c, p.c_str(), err, sizeof(err)), 0) << err << "\n" << first;
		EXPECT_EQ(print(&b.c), first) << f;
		EXPECT_EQ(b.c.n_listeners, a.c.n_listeners);
		EXPECT_EQ(b.c.workers, a.c.workers);
	}
}

// ---------------------------------------------------------------- file

TEST(CfgFile, EmptyFileKeepsDefaults)
{
	TempDir dir;
	Cfg c;
	std::string err;
	ASSERT_EQ(load_text(dir, &c.c, "# nothing\n", &err), 0) << err;
	EXPECT_EQ(c.c.workers, 1u);
	EXPECT_EQ(c.c.n_listeners, 0u);
}

TEST(CfgFile, MissingFileNamesIt)
{
	Cfg c;
	char err[256] = "";
	EXPECT_NE(cfg_load_file(&c.c, "/nonexistent/x.yaml", err, sizeof(err)), 0);
	EXPECT_NE(std::string(err).find("/nonexistent/x.yaml"), std::string::npos);
}

TEST(CfgFile, StringListAsSequenceOrColonString)
{
	TempDir dir;
	Cfg a, b;
	std::string err;
	ASSERT_EQ(load_text(dir, &a.c,
			    "tls:\n  groups: x25519:secp256r1, ffdhe2048\n"
			    "  ciphers: ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256\n",
			    &err),
		  0)
		<< err;
	ASSERT_EQ(load_text(dir, &b.c,
			    "tls:\n  groups: [x25519, secp256r1, ffdhe2048]\n"
			    "  ciphers:\n    - ECDHE-RSA-AES128-GCM-SHA256\n    - ECDHE-ECDSA-AES128-GCM-SHA256\n",
			    &err),
		  0)
		<< err;
	ASSERT_EQ(a.c.tls.n_groups, 3u);
	ASSERT_EQ(b.c.tls.n_groups, 3u);
	for (size_t i = 0; i < 3; i++)
		EXPECT_STREQ(a.c.tls.groups[i], b.c.tls.groups[i]);
	EXPECT_STREQ(a.c.tls.groups[2], "ffdhe2048");
	ASSERT_EQ(a.c.tls.n_ciphers, 2u);
	EXPECT_STREQ(a.c.tls.ciphers[1], "ECDHE-ECDSA-AES128-GCM-SHA256");
	char s[256];
	EXPECT_EQ(cfg_tls_suites_string(&a.c.tls, s, sizeof(s)),
		  (int)strlen("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256"));
	EXPECT_STREQ(s, "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256");
}

TEST(CfgFile, TopLevelTlsAppliesWhereverItIsWritten)
{
	TempDir dir;
	Cfg c;
	std::string err;
	ASSERT_EQ(load_text(dir, &c.c,
			    "listeners:\n"
			    "  - listen: 127.0.0.1:1\n"
			    "  - listen: 127.0.0.1:2\n"
			    "    tls: {policy: old}\n"
			    "tls:\n  ciphers: [A, B]\n  resumption: off\n",
			    &err),
		  0)
		<< err;
	ASSERT_EQ(c.c.n_listeners, 2u);
	EXPECT_EQ(c.c.listeners[0].tls.n_ciphers, 2u);
	EXPECT_FALSE(c.c.listeners[0].tls.resumption);
	// A policy in the listener replaces the inherited ciphers.
	EXPECT_EQ(c.c.listeners[1].tls.n_ciphers, 0u);
	EXPECT_EQ(c.c.listeners[1].tls.policy, CFG_POLICY_OLD);
	EXPECT_FALSE(c.c.listeners[1].tls.resumption);
	char s[64];
	EXPECT_EQ(cfg_tls_suites_string(&c.c.listeners[1].tls, s, sizeof(s)), 3);
	EXPECT_STREQ(s, "old");
}

TEST(CfgFile, CoresAsStringOrList)
{
	TempDir dir;
	Cfg a, b;
	std::string err;
	ASSERT_EQ(load_text(dir, &a.c, "cores: \"0-1,3\"\n", &err), 0) << err;
	ASSERT_EQ(load_text(dir, &b.c, "cores: [0, 1, \"3\"]\n", &err), 0) << err;
	for (Cfg *c : {&a, &b}) {
		ASSERT_EQ(c->c.n_cores, 3u);
		EXPECT_EQ(c->c.workers, 3u);
		EXPECT_EQ(c->c.cores[0], 0);
		EXPECT_EQ(c->c.cores[1], 1);
		EXPECT_EQ(c->c.cores[2], 3);
	}
}

TEST(CfgFile, DurationsAndSizes)
{
	TempDir dir;
	Cfg c;
	std::string err;
	ASSERT_EQ(load_text(dir, &c.c,
			    "handshake_timeout: 500ms\nidle_timeout: 0\ndrain_timeout: 3s\nresponse_size: 1m\n"
			    "session_cache: {size: 4k, lifetime: 2m}\n",
			    &err),
		  0)
		<< err;
	EXPECT_EQ(c.c.handshake_timeout_ms, 500u);
	EXPECT_EQ(c.c.idle_timeout_ms, 0u);
	EXPECT_EQ(c.c.drain_timeout_ms, 3000u);
	EXPECT_EQ(c.c.response_size, 1u << 20);
	EXPECT_EQ(c.c.session_cache_size, 4096u);
	EXPECT_EQ(c.c.session_lifetime_s, 120u);
}

TEST(CfgFile, Limits)
{
	TempDir dir;
	Cfg c;
	std::string err;
	ASSERT_EQ(load_text(dir, &c.c,
			    "limits:\n  max_conns: 500\n  max_handshakes: 100\n  conn_buffer: 64k\n"
			    "tls:\n  max_handshake_message: 128k\n"
			    "listeners:\n  - listen: 127.0.0.1:1\n  - listen: 127.0.0.1:2\n"
			    "    tls: {max_handshake_message: 20000}\n",
			    &err),
		  0)
		<< err;
	EXPECT_EQ(c.c.max_conns, 500u);
	EXPECT_EQ(c.c.max_handshakes, 100u);
	EXPECT_EQ(c.c.conn_buffer, 65536u);
	// Per listener: the top-level tls: value, or the listener's own.
	ASSERT_EQ(c.c.n_listeners, 2u);
	EXPECT_EQ(listener(c.c, 0)->tls.max_handshake_message, 128u * 1024);
	EXPECT_EQ(listener(c.c, 1)->tls.max_handshake_message, 20000u);
	// More handshakes than connections cannot be.
	Cfg d;
	ASSERT_EQ(load_text(dir, &d.c, "limits: {max_conns: 10, max_handshakes: 11}\n", &err), 0) << err;
	ASSERT_EQ(parse(&d.c, {"--cert", "a", "--key", "b"}, &err), CFG_ARGS_OK) << err;
	EXPECT_NE(validate(&d.c).find("max_handshakes must be 1..max_conns (10)"), std::string::npos);
}

// The bounded flush delay (issue 14): off by default, from the file and
// from the command line, which wins.
TEST(CfgFile, BatchDelay)
{
	TempDir dir;
	Cfg d;
	EXPECT_EQ(d.c.batch_delay_us, 0u);
	EXPECT_EQ(d.c.batch_min, 8u);
	Cfg c;
	std::string err;
	ASSERT_EQ(load_text(dir, &c.c, "batch:\n  delay_us: 200\n  min: 4\n", &err), 0) << err;
	EXPECT_EQ(c.c.batch_delay_us, 200u);
	EXPECT_EQ(c.c.batch_min, 4u);
	ASSERT_EQ(parse(&c.c, {"--batch-delay-us", "350", "--batch-min=6"}, &err), CFG_ARGS_OK) << err;
	EXPECT_EQ(c.c.batch_delay_us, 350u);
	EXPECT_EQ(c.c.batch_min, 6u);
	EXPECT_NE(print(&c.c).find("batch:\n  delay_us: 350\n  min: 6\n"), std::string::npos);
}

TEST(CfgFile, Tickets)
{
	TempDir dir;
	Cfg c;
	std::string err;
	ASSERT_EQ(load_text(dir, &c.c,
			    "tickets:\n  count: 0\n  rotation: 2m\n  key_file: /etc/keys\n"
			    "  psk_modes: psk_dhe_ke,psk_ke\n",
			    &err),
		  0)
		<< err;
	EXPECT_EQ(c.c.tickets, 0u);
	EXPECT_EQ(c.c.ticket_rotation_s, 120u);
	EXPECT_STREQ(c.c.ticket_key_file, "/etc/keys");
	EXPECT_EQ(c.c.psk_modes, (unsigned)(CFG_PSK_KE | CFG_PSK_DHE_KE));
	Cfg d;
	EXPECT_NE(load_text(dir, &d.c, "tickets:\n  psk_modes: psk_ke\n  count: 99\n", &err), 0);
	EXPECT_NE(err.find("tls.yaml:3:"), std::string::npos) << err;
	EXPECT_NE(err.find("tickets.count"), std::string::npos) << err;
}

TEST(CfgFile, SessionStore)
{
	TempDir dir;
	Cfg c;
	std::string err;
	EXPECT_FALSE(c.c.session_store.on);
	EXPECT_EQ(c.c.session_store.timeout_ms, 2u);
	ASSERT_EQ(load_text(dir, &c.c, "session_store:\n  url: redis://[::1]:6380/3\n  timeout: 15ms\n", &err), 0)
		<< err;
	EXPECT_TRUE(c.c.session_store.on);
	EXPECT_STREQ(c.c.session_store.addr.host, "::1");
	EXPECT_EQ(c.c.session_store.addr.port, 6380);
	EXPECT_EQ(c.c.session_store.db, 3u);
	EXPECT_EQ(c.c.session_store.timeout_ms, 15u);
	EXPECT_EQ(c.c.session_store.tls13, CFG_STORE13_STORE); // the default: TLS 1.3 state in the store
	// printed and read back the same
	std::string first = print(&c.c);
	EXPECT_NE(first.find("url: \"redis://[::1]:6380/3\""), std::string::npos) << first;
	EXPECT_NE(first.find("tls13: store"), std::string::npos) << first;
	Cfg b;
	std::string p = dir.write("printed.yaml", first);
	char e[1024] = "";
	ASSERT_EQ(cfg_load_file(&b.c, p.c_str(), e, sizeof(e)), 0) << e;
	EXPECT_EQ(print(&b.c), first);
	const char *bad[][2] = {
		{"session_store:\n  url: http://127.0.0.1:6379\n", "is not redis://HOST:PORT[/DB]"},
		{"session_store:\n  url: redis://redis.internal:6379\n", "numeric address"},
		{"session_store:\n  url: redis://127.0.0.1\n", "has no port"},
		{"session_store:\n  url: redis://127.0.0.1:6379/x\n", "database 'x'"},
		{"session_store:\n  url: redis://127.0.0.1:6379\n  timeout: 0\n", "between 1ms and 10s"},
		{"session_store:\n  url: redis://127.0.0.1:6379\n  tls13: stateless\n", "stateless"},
	};
	for (auto &k : bad) {
		Cfg d;
		EXPECT_NE(load_text(dir, &d.c, k[0], &err), 0) << k[0];
		EXPECT_NE(err.find(k[1]), std::string::npos) << err;
		EXPECT_NE(err.find("session_store."), std::string::npos) << err;
	}
	Cfg t;
	ASSERT_EQ(load_text(dir, &t.c, "session_store:\n  tls13: ticket\n  url: redis://127.0.0.1:6379\n", &err), 0)
		<< err;
	EXPECT_EQ(t.c.session_store.tls13, CFG_STORE13_TICKET);
	EXPECT_NE(print(&t.c).find("tls13: ticket"), std::string::npos);
}

TEST(CfgArgs, SessionStoreFlags)
{
	Cfg c;
	std::string err;
	ASSERT_EQ(parse(&c.c, {"--session-store", "redis://127.0.0.1:7000", "--session-store-timeout-ms", "7"}, &err),
		  CFG_ARGS_OK)
		<< err;
	EXPECT_TRUE(c.c.session_store.on);
	EXPECT_EQ(c.c.session_store.addr.port, 7000);
	EXPECT_EQ(c.c.session_store.db, 0u);
	EXPECT_EQ(c.c.session_store.timeout_ms, 7u);
	EXPECT_EQ(c.c.session_store.tls13, CFG_STORE13_STORE);
	Cfg t;
	ASSERT_EQ(parse(&t.c, {"--session-store", "redis://127.0.0.1:7000", "--session-store-tls13", "ticket"}, &err),
		  CFG_ARGS_OK)
		<< err;
	EXPECT_EQ(t.c.session_store.tls13, CFG_STORE13_TICKET);
	Cfg u;
	EXPECT_NE(parse(&u.c, {"--session-store-tls13", "sometimes"}, &err), CFG_ARGS_OK);
	EXPECT_NE(err.find("--session-store-tls13"), std::string::npos) << err;
	Cfg d;
	EXPECT_NE(parse(&d.c, {"--session-store-timeout-ms", "0"}, &err), CFG_ARGS_OK);
	EXPECT_NE(err.find("--session-store-timeout-ms"), std::string::npos) << err;
	Cfg e;
	EXPECT_NE(parse(&e.c, {"--session-store", "127.0.0.1:6379"}, &err), CFG_ARGS_OK);
	EXPECT_NE(err.find("--session-store"), std::string::npos) << err;
}

TEST(CfgFile, IPv6Listener)
{
	TempDir dir;
	Cfg c;
	std::string err;
	ASSERT_EQ(load_text(dir, &c.c, "listeners:\n  - listen: \"[::1]:8443\"\n", &err), 0) << err;
	ASSERT_EQ(c.c.n_listeners, 1u);
	const struct cfg_addr *a = &c.c.listeners[0].addr;
	EXPECT_EQ(a->family, AF_INET6);
	EXPECT_STREQ(a->host, "::1");
	EXPECT_EQ(a->sa_len, sizeof(struct sockaddr_in6));
	auto *sin6 = (const struct sockaddr_in6 *)&a->sa;
	EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	EXPECT_EQ(ntohs(sin6->sin6_port), 8443);
}

// Each case: YAML text, the line and column the message must name, and a
// piece of the reason.
struct BadFile {
	const char *yaml;
	int line;
	int col;
	const char *reason;
};

#define CERTS_4 "{cert: a, key: b}, {cert: a, key: b}, {cert: a, key: b}, {cert: a, key: b}, "
#define CERTS_32 CERTS_4 CERTS_4 CERTS_4 CERTS_4 CERTS_4 CERTS_4 CERTS_4 CERTS_4

static const BadFile bad_files[] = {
	{"workers: 2\nworker: 3\n", 2, 1, "unknown key 'worker' in the file (did you mean 'workers'?)"},
	{"listeners:\n  - listen: 127.0.0.1:8443\n    tls:\n      cipher: [A]\n", 4, 7,
	 "unknown key 'cipher' in listeners[0].tls (did you mean 'ciphers'?)"},
	{"workers: abc\n", 1, 10, "workers: 'abc' is not a whole number"},
	{"workers: 0\n", 1, 10, "out of range"},
	{"workers: 1000\n", 1, 10, "out of range"},
	{"workers:\n", 1, 9, "workers: missing value"},
	{"workers: [1]\n", 1, 10, "expected a single value, got a list"},
	{"workers: 2\ncores: 0-1\n", 2, 8, "either workers or cores"},
	{"mode: fast\n", 1, 7, "'fast' is not one of: respond, proxy"},
	{"dataplane: netmap\n", 1, 12, "kernel, dpdk"},
	{"accel: qat\n", 1, 8, "auto, openssl, ifma"},
	{"log_level: verbose\n", 1, 12, "error, warn, info, debug"},
	{"mode: proxy\nmode: respond\n", 2, 1, "duplicate key 'mode'"},
	{"listeners:\n  - listen: 127.0.0.1\n", 2, 13, "no port"},
	{"listeners:\n  - listen: \"::1:8443\"\n", 2, 13, "need brackets"},
	{"listeners:\n  - listen: \"[::1]:99999\"\n", 2, 13, "bad port"},
	{"listeners:\n  - listen: 127.0.0.1:0\n", 2, 13, "bad port"},
	{"listeners:\n  - listen: localhost:8443\n", 2, 13, "not an IPv4 address"},
	{"listeners:\n  - certificates: []\n", 2, 5, "missing 'listen"},
	{"listeners: 127.0.0.1:8443\n", 1, 12, "expected a list of listeners"},
	{"listeners:\n  - listen: 127.0.0.1:1\n    certificates:\n      - cert: a.crt\n", 4, 9,
	 "'cert' without 'key'"},
	{"listeners:\n  - listen: 127.0.0.1:1\n    certificates:\n      - key: a.key\n", 4, 9,
	 "'key' without 'cert'"},
	// CFG_MAX_CERTS (32) + 1: the 33rd item, at column 20 + 32 * 19
	{"listeners:\n  - listen: 127.0.0.1:1\n    certificates: [" CERTS_32 "{cert: a, key: b}]\n", 3, 628,
	 "too many certificates"},
	{"listeners:\n  - listen: 127.0.0.1:1\n    certificates:\n      - {cert: a, key: b, ocsp: \"\"}\n", 4,
	 33, "empty file name"},
	{"listeners:\n  - listen: 127.0.0.1:1\n    certificates:\n      - {cert: a, key: b, chain: c}\n", 4, 27,
	 "unknown key 'chain'"},
	{"tls:\n  groups: [x25519, x2559]\n", 2, 20, "unknown group 'x2559'"},
	{"tls:\n  groups: \"x25519:brainpool\"\n", 2, 11, "unknown group 'brainpool'"},
	{"tls:\n  signature_algorithms: [rsa_pss_sha256]\n", 2, 26, "unknown signature algorithm"},
	{"tls:\n  min_version: \"1.1\"\n", 2, 16, "not a supported TLS version"},
	{"tls:\n  policy: modern\n  ciphers: [A]\n", 3, 12, "either policy or ciphers"},
	{"tls:\n  policy: strict\n", 2, 11, "modern, intermediate, old"},
	{"tls:\n  resumption: maybe\n", 2, 15, "not on/off"},
	{"tls:\n  client_auth: required\n", 2, 16, "none, optional, require"},
	{"tls:\n  alpn: \"\"\n", 2, 9, "empty item"},
	{"listeners:\n  - listen: 127.0.0.1:1\n    tls:\n      min_version: \"1.3\"\n      max_version: \"1.2\"\n",
	 4, 7, "min_version 1.3 is above max_version 1.2"},
	{"listeners:\n  - listen: 127.0.0.1:1\n    tls:\n      client_auth: require\n", 4, 7,
	 "client_auth require needs a CA file"},
	{"handshake_timeout: 10 parsecs\n", 1, 20, "not a duration"},
	{"handshake_timeout: 0\n", 1, 20, "must be above 0"},
	{"idle_timeout: -1\n", 1, 15, "not a duration"},
	{"response_size: 1t\n", 1, 16, "not a size"},
	{"response_size: 1g\n", 1, 16, "too large"},
	{"session_cache:\n  lifetime: 1500ms\n", 2, 13, "whole seconds"},
	{"session_cache:\n  entries: 10\n", 2, 3, "unknown key 'entries'"},
	{"session_cache: 100\n", 1, 16, "expected a mapping"},
	{"limits:\n  max_conns: 0\n", 2, 14, "out of range"},
	{"limits:\n  max_handshakes: many\n", 2, 19, "not a whole number"},
	{"limits:\n  conn_buffer: 1k\n", 2, 16, "at least 4096 bytes"},
	{"batch:\n  delay_us: 20ms\n", 2, 13, "not a whole number"},
	{"batch:\n  min: 65\n", 2, 8, "out of range"},
	{"batch: 200\n", 1, 8, "expected a mapping"},
	{"limits:\n  conn_buffer: 1g\n", 2, 16, "too large"},
	{"limits:\n  max_streams: 1\n", 2, 3, "unknown key 'max_streams'"},
	{"tls:\n  max_handshake_message: 1k\n", 2, 26, "at least 16384 bytes"},
	{"tls:\n  max_handshake_message: 16m\n", 2, 26, "too large"},
	{"cores: 3-1\n", 1, 8, "goes backwards"},
	{"cores: 1,1\n", 1, 8, "listed twice"},
	{"cores: [0, x]\n", 1, 12, "not a core id"},
	{"backends: [\"127.0.0.1\"]\n", 1, 12, "no port"},
	{"backends: [\"bad_host:80\"]\n", 1, 12, "or host name"},
	{"proxy:\n  balance: random\n", 2, 12, "'random' is not one of: roundrobin, leastconn"},
	{"proxy:\n  proxy_protocol: v1\n", 2, 19, "'v1' is not one of: off, v2"},
	{"proxy:\n  connect_timeout: 0\n", 2, 20, "must be above 0"},
	{"proxy:\n  health:\n    rise: 0\n", 3, 11, "out of range"},
	{"proxy:\n  health:\n    fall: 101\n", 3, 11, "out of range"},
	{"proxy:\n  health:\n    timeout: 1s\n", 3, 5, "unknown key 'timeout' in proxy.health"},
	{"proxy:\n  backend: [127.0.0.1:80]\n", 2, 3, "did you mean 'backends'"},
	{"backends: [127.0.0.1:80]\nproxy:\n  backends: [127.0.0.1:81]\n", 3, 13,
	 "already listed at line 1"},
	{"proxy:\n  backends: [\"127.0.0.1\"]\n", 2, 14, "no port"},
	{"dpdk:\n  eal_args: {a: b}\n", 2, 13, "expected a single value, got a mapping"},
	{"dpdk:\n  eal: []\n", 2, 3, "unknown key 'eal'"},
	{"dpdk:\n  prefix_len: 33\n", 2, 15, "out of range"},
	{"dpdk:\n  gateway: 10.0.0\n", 2, 12, "not an IPv4 address"},
	{"- workers: 1\n", 1, 1, "top level must be a mapping"},
	{"workers: 1\n---\nworkers: 2\n", 3, 1, "only one YAML document"},
	{"workers: 1\n  mode: proxy\n", 2, 7, "mapping values are not allowed"},
	{"tls:\n  alpn: [\"http/1.1\n", 3, 1, ""},
	{"tls: {\n", 2, 1, ""},
	{"tls:\n", 1, 5, "tls: empty section"},
};

TEST(CfgFile, EveryErrorNamesFileLineAndColumn)
{
	TempDir dir;
	for (const BadFile &b : bad_files) {
		Cfg c;
		std::string err;
		EXPECT_NE(load_text(dir, &c.c, b.yaml, &err), 0) << b.yaml;
		std::string where = dir.path() + "/tls.yaml:" + std::to_string(b.line) + ":" + std::to_string(b.col) + ": ";
		EXPECT_EQ(err.rfind(where, 0), 0u) << "want " << where << "\ngot  " << err << "\nfor\n" << b.yaml;
		EXPECT_NE(err.find(b.reason), std::string::npos) << err << "\nfor\n" << b.yaml;
	}
}

// ---------------------------------------------------------------- command line

TEST(CfgArgs, HelpAndVersionReturnTheirOwnCodes)
{
	Cfg c;
	std::string err;
	EXPECT_EQ(parse(&c.c, {"-h"}, &err), CFG_ARGS_HELP);
	EXPECT_EQ(parse(&c.c, {"--help"}, &err), CFG_ARGS_HELP);
	EXPECT_EQ(parse(&c.c, {"--version"}, &err), CFG_ARGS_VERSION);
	// They win over a file that does not load and over bad flags.
	EXPECT_EQ(parse(&c.c, {"-c", "/nonexistent.yaml", "--bogus", "--help"}, &err), CFG_ARGS_HELP);
	EXPECT_EQ(parse(&c.c, {"--workers", "x", "--version"}, &err), CFG_ARGS_VERSION);
	// The value of a flag is not a flag; EAL arguments are not ours.
	Cfg d;
	ASSERT_EQ(parse(&d.c, {"--cert", "-h", "--key", "k", "--", "-h"}, &err), CFG_ARGS_OK) << err;
	EXPECT_STREQ(d.c.listeners[0].certs[0].cert_file, "-h");
	ASSERT_EQ(d.c.n_eal_args, 1u);
	EXPECT_STREQ(d.c.eal_args[0], "-h");
	EXPECT_NE(CFG_ARGS_HELP, CFG_ARGS_VERSION);
	EXPECT_NE(CFG_ARGS_HELP, CFG_ARGS_OK);
	EXPECT_NE(CFG_ARGS_VERSION, CFG_ARGS_ERROR);
	EXPECT_EQ(std::string(cfg_version()).rfind("tlsoffload ", 0), 0u);
}

TEST(CfgArgs, UsageShowsTheDesignCommandLine)
{
	char *text = nullptr;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cfg_usage(f);
	fclose(f);
	std::string s(text, len);
	free(text);
	for (const char *flag : {"-c FILE", "--dataplane kernel|dpdk", "--listen ADDR:PORT", "--cert FILE --key FILE",
				 "--workers N | --cores LIST", "--mode respond|proxy", "--backend HOST:PORT",
				 "--response-size N", "--tls-min 1.2|1.3", "--tls-max 1.2|1.3", "--resumption on|off",
				 "--check-config", "--log-level LEVEL", "--version", "-- EAL arguments", "--accel",
				 "--ciphers", "--client-auth", "--ca FILE", "--handshake-timeout", "--session-cache",
				 "--max-conns N", "--max-handshakes N", "--conn-buffer SIZE", "--max-handshake-message SIZE",
				 "--idle-timeout", "--batch-delay-us N", "--batch-min K", "--drain-timeout"})
		EXPECT_NE(s.find(flag), std::string::npos) << flag;
}

TEST(CfgArgs, EveryDesignFlag)
{
	Cfg c;
	std::string err;
	ASSERT_EQ(parse(&c.c,
			{"--dataplane", "dpdk", "--listen", "[::1]:9443", "--cert", "r.crt", "--key", "r.key",
			 "--cert=e.crt", "--key=e.key", "--cores", "0-1,3", "--mode", "proxy", "--backend",
			 "127.0.0.1:8080", "--backend", "[::1]:8081", "--response-size", "16k", "--tls-min", "1.3",
			 "--tls-max", "TLSv1.3", "--resumption", "off", "--check-config", "--log-level", "debug",
			 "--accel", "openssl", "--ciphers", "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384",
			 "--client-auth", "optional", "--ca", "ca.crt", "--handshake-timeout", "500ms",
			 "--idle-timeout", "2m", "--drain-timeout", "0", "--session-cache", "1000", "--tickets", "4", "--ticket-rotation",
			 "10m", "--ticket-key-file", "keys.txt", "--psk-modes", "psk_ke,psk_dhe_ke", "--max-conns",
			 "300", "--max-handshakes=200", "--conn-buffer", "1m", "--max-handshake-message", "100k", "--",
			 "--no-pci", "-l", "0-1"},
			&err),
		  CFG_ARGS_OK)
		<< err;
	EXPECT_EQ(c.c.dataplane, CFG_DATAPLANE_DPDK);
	EXPECT_EQ(c.c.mode, CFG_MODE_PROXY);
	EXPECT_EQ(c.c.workers, 3u);
	ASSERT_EQ(c.c.n_cores, 3u);
	EXPECT_EQ(c.c.cores[2], 3);
	ASSERT_EQ(c.c.n_backends, 2u);
	EXPECT_EQ(c.c.backends[1].family, AF_INET6);
	EXPECT_EQ(c.c.response_size, 16384u);
	EXPECT_TRUE(c.c.check_config);
	EXPECT_EQ(c.c.log_level, CFG_LOG_DEBUG);
	EXPECT_EQ(c.c.accel, CFG_ACCEL_OPENSSL);
	EXPECT_EQ(c.c.handshake_timeout_ms, 500u);
	EXPECT_EQ(c.c.idle_timeout_ms, 120000u);
	EXPECT_EQ(c.c.drain_timeout_ms, 0u);
	EXPECT_EQ(c.c.session_cache_size, 1000u);
	EXPECT_EQ(c.c.tickets, 4u);
	EXPECT_EQ(c.c.ticket_rotation_s, 600u);
	EXPECT_STREQ(c.c.ticket_key_file, "keys.txt");
	EXPECT_EQ(c.c.psk_modes, (unsigned)(CFG_PSK_KE | CFG_PSK_DHE_KE));
	EXPECT_EQ(c.c.max_conns, 300u);
	EXPECT_EQ(c.c.max_handshakes, 200u);
	EXPECT_EQ(c.c.conn_buffer, 1u << 20);
	EXPECT_EQ(c.c.tls.max_handshake_message, 100u * 1024);
	ASSERT_EQ(c.c.n_eal_args, 3u);
	EXPECT_STREQ(c.c.eal_args[2], "0-1");
	ASSERT_EQ(c.c.n_listeners, 1u);
	const struct cfg_listener *l = listener(c.c, 0);
	EXPECT_EQ(l->addr.family, AF_INET6);
	EXPECT_EQ(l->addr.port, 9443);
	ASSERT_EQ(l->n_certs, 2u);
	EXPECT_STREQ(l->certs[1].cert_file, "e.crt");
	EXPECT_STREQ(l->certs[1].key_file, "e.key");
	EXPECT_EQ(l->tls.version_min, CFG_TLS13);
	EXPECT_EQ(l->tls.version_max, CFG_TLS13);
	EXPECT_FALSE(l->tls.resumption);
	ASSERT_EQ(l->tls.n_ciphers, 2u);
	EXPECT_STREQ(l->tls.ciphers[1], "TLS_AES_256_GCM_SHA384");
	EXPECT_EQ(l->tls.client_auth, CFG_CLIENT_AUTH_OPTIONAL);
	EXPECT_STREQ(l->tls.ca_file, "ca.crt");
	EXPECT_EQ(l->tls.max_handshake_message, 100u * 1024);
	EXPECT_STREQ(l->origin, "command line");
}

TEST(CfgArgs, DpdkAddressing)
{
	Cfg c;
	std::string err;
	EXPECT_EQ(c.c.dpdk_prefix_len, 24u);
	EXPECT_EQ(c.c.dpdk_gateway, 0u);
	EXPECT_EQ(c.c.dpdk_max_conns, (uint32_t)CFG_DEFAULT_DPDK_CONNS);
	ASSERT_EQ(parse(&c.c, {"--dpdk-prefix", "16", "--dpdk-gateway=198.18.255.254", "--dpdk-max-conns", "20000"}, &err),
		  CFG_ARGS_OK)
		<< err;
	EXPECT_EQ(c.c.dpdk_prefix_len, 16u);
	EXPECT_EQ(c.c.dpdk_gateway, 0xc612fffeu);
	EXPECT_EQ(c.c.dpdk_max_conns, 20000u);
}

TEST(CfgArgs, FlagsOverrideTheFile)
{
	TempDir dir;
	std::string file = dir.write("f.yaml",
				     "workers: 2\nmode: proxy\nbackends: [10.0.0.1:80]\nresponse_size: 100\n"
				     "tls:\n  policy: modern\n  resumption: on\n"
				     "dpdk:\n  eal_args: \"--no-pci  -l 0\"\n"
				     "listeners:\n"
				     "  - listen: 127.0.0.1:8443\n"
				     "    certificates: [{cert: file.crt, key: file.key}]\n"
				     "  - listen: 127.0.0.2:8443\n"
				     "    certificates: [{cert: two.crt, key: two.key}]\n");
	Cfg c;
	std::string err;
	ASSERT_EQ(parse(&c.c,
			{"--cores", "1", "-c", file, "--mode", "respond", "--response-size", "2k", "--backend",
			 "10.0.0.2:81", "--listen", "0.0.0.0:443", "--resumption", "off", "--ciphers",
			 "intermediate", "--", "--in-memory"},
			&err),
		  CFG_ARGS_OK)
		<< err;
	EXPECT_STREQ(c.c.config_file, file.c_str());
	// -c is loaded first wherever it is written; then the flags apply.
	EXPECT_EQ(c.c.workers, 1u);
	ASSERT_EQ(c.c.n_cores, 1u);
	EXPECT_EQ(c.c.cores[0], 1);
	EXPECT_EQ(c.c.mode, CFG_MODE_RESPOND);
	EXPECT_EQ(c.c.response_size, 2048u);
	ASSERT_EQ(c.c.n_backends, 1u); // replaced, not appended
	EXPECT_STREQ(c.c.backends[0].host, "10.0.0.2");
	ASSERT_EQ(c.c.n_eal_args, 1u);
	EXPECT_STREQ(c.c.eal_args[0], "--in-memory");
	ASSERT_EQ(c.c.n_listeners, 2u);
	// --listen replaces the first listener's address; its certificates
	// stay; the second listener is untouched but the TLS flags reach it.
	const struct cfg_listener *a = listener(c.c, 0), *b = listener(c.c, 1);
	EXPECT_STREQ(a->addr.host, "0.0.0.0");
	EXPECT_EQ(a->addr.port, 443);
	ASSERT_EQ(a->n_certs, 1u);
	EXPECT_STREQ(a->certs[0].cert_file, "file.crt");
	EXPECT_NE(std::string(a->origin).find("address from --listen"), std::string::npos);
	EXPECT_STREQ(b->addr.host, "127.0.0.2");
	EXPECT_STREQ(b->certs[0].cert_file, "two.crt");
	for (const struct cfg_listener *l : {a, b}) {
		EXPECT_FALSE(l->tls.resumption);
		EXPECT_EQ(l->tls.policy, CFG_POLICY_INTERMEDIATE);
		EXPECT_EQ(l->tls.n_ciphers, 0u);
	}
}

TEST(CfgArgs, CertKeyReplaceTheFirstListenersCertificates)
{
	TempDir dir;
	std::string file = dir.write("f.yaml",
				     "listeners:\n"
				     "  - listen: 127.0.0.1:8443\n"
				     "    certificates: [{cert: file.crt, key: file.key}, {cert: f2.crt, key: f2.key}]\n");
	Cfg c;
	std::string err;
	ASSERT_EQ(parse(&c.c, {"-c", file, "--cert", "cli.crt", "--key", "cli.key"}, &err), CFG_ARGS_OK) << err;
	ASSERT_EQ(c.c.n_listeners, 1u);
	ASSERT_EQ(c.c.listeners[0].n_certs, 1u);
	EXPECT_STREQ(c.c.listeners[0].certs[0].cert_file, "cli.crt");
	EXPECT_STREQ(c.c.listeners[0].certs[0].key_file, "cli.key");
	EXPECT_EQ(c.c.listeners[0].addr.port, 8443);
}

TEST(CfgArgs, ExtraListenAddressesShareTheFirstListener)
{
	Cfg c;
	std::string err;
	ASSERT_EQ(parse(&c.c,
			{"--listen", "127.0.0.1:8443", "--listen", "[::1]:8443", "--cert", "a.crt", "--key", "a.key",
			 "--tls-max", "1.2"},
			&err),
		  CFG_ARGS_OK)
		<< err;
	ASSERT_EQ(c.c.n_listeners, 2u);
	EXPECT_EQ(c.c.listeners[0].addr.family, AF_INET);
	EXPECT_EQ(c.c.listeners[1].addr.family, AF_INET6);
	ASSERT_EQ(c.c.listeners[1].n_certs, 1u);
	EXPECT_STREQ(c.c.listeners[1].certs[0].cert_file, "a.crt");
	EXPECT_EQ(c.c.listeners[1].tls.version_max, CFG_TLS12);
	// The copy owns its strings (cfg_free frees both without trouble).
	EXPECT_NE(c.c.listeners[1].certs[0].cert_file, c.c.listeners[0].certs[0].cert_file);
}

TEST(CfgArgs, OcspGoesWithTheCertBeforeIt)
{
	Cfg c;
	std::string err;
	ASSERT_EQ(parse(&c.c, {"--cert", "r.crt", "--key", "r.key", "--ocsp", "r.der", "--cert", "e.crt", "--key",
			       "e.key"},
			&err),
		  CFG_ARGS_OK)
		<< err;
	ASSERT_EQ(c.c.listeners[0].n_certs, 2u);
	EXPECT_STREQ(c.c.listeners[0].certs[0].ocsp_file, "r.der");
	EXPECT_EQ(c.c.listeners[0].certs[1].ocsp_file, nullptr);
	Cfg d;
	EXPECT_EQ(parse(&d.c, {"--ocsp", "r.der", "--cert", "r.crt", "--key", "r.key"}, &err), CFG_ARGS_ERROR);
	EXPECT_NE(err.find("without a --cert before it"), std::string::npos) << err;
	Cfg e;
	EXPECT_EQ(parse(&e.c, {"--cert", "r.crt", "--ocsp", "a.der", "--ocsp", "b.der", "--key", "r.key"}, &err),
		  CFG_ARGS_ERROR);
	EXPECT_NE(err.find("twice"), std::string::npos) << err;
}

TEST(CfgFile, CertificateNamesAndOcsp)
{
	TempDir dir;
	Cfg c;
	std::string err;
	ASSERT_EQ(load_text(dir, &c.c,
			    "listeners:\n"
			    "  - listen: 127.0.0.1:8443\n"
			    "    certificates:\n"
			    "      - {cert: a.crt, key: a.key, ocsp: a.der, names: [a.example.com, \"*.a.example.com\"]}\n"
			    "      - {cert: b.crt, key: b.key, names: \"b.example.com, www.b.example.com\"}\n",
			    &err),
		  0)
		<< err;
	const struct cfg_listener *l = listener(c.c, 0);
	ASSERT_EQ(l->n_certs, 2u);
	EXPECT_STREQ(l->certs[0].ocsp_file, "a.der");
	ASSERT_EQ(l->certs[0].n_names, 2u);
	EXPECT_STREQ(l->certs[0].names[1], "*.a.example.com");
	ASSERT_EQ(l->certs[1].n_names, 2u);
	EXPECT_STREQ(l->certs[1].names[1], "www.b.example.com");
	// printed and read back: the same; copied to a second --listen: owned
	std::string first = print(&c.c);
	Cfg b;
	ASSERT_EQ(load_text(dir, &b.c, first, &err), 0) << err << first;
	EXPECT_EQ(print(&b.c), first);
	Cfg x;
	ASSERT_EQ(parse(&x.c, {"-c", dir.write("n.yaml", first), "--listen", "127.0.0.1:1", "--listen", "127.0.0.1:2"},
			&err),
		  CFG_ARGS_OK)
		<< err;
	ASSERT_EQ(x.c.n_listeners, 2u);
	EXPECT_STREQ(x.c.listeners[1].certs[0].names[0], "a.example.com");
	EXPECT_NE(x.c.listeners[1].certs[0].names[0], x.c.listeners[0].certs[0].names[0]);
	EXPECT_STREQ(x.c.listeners[1].certs[0].ocsp_file, "a.der");
}

TEST(CfgArgs, CertsWithoutListenUseTheDefaultAddress)
{
	Cfg c;
	std::string err;
	ASSERT_EQ(parse(&c.c, {"--cert", "r.crt", "--key", "r.key", "--cert", "e.crt", "--key", "e.key"}, &err),
		  CFG_ARGS_OK)
		<< err;
	ASSERT_EQ(c.c.n_listeners, 1u);
	EXPECT_STREQ(c.c.listeners[0].addr.host, "127.0.0.1");
	EXPECT_EQ(c.c.listeners[0].addr.port, 8443);
	EXPECT_EQ(c.c.listeners[0].n_certs, 2u);
}

TEST(CfgArgs, WorkersReplaceTheFilesCores)
{
	TempDir dir;
	std::string file = dir.write("f.yaml", "cores: 0-1\n");
	Cfg c;
	std::string err;
	ASSERT_EQ(parse(&c.c, {"-c", file, "--workers", "4"}, &err), CFG_ARGS_OK) << err;
	EXPECT_EQ(c.c.workers, 4u);
	EXPECT_EQ(c.c.n_cores, 0u);
}

struct BadArgs {
	std::vector<std::string> args;
	const char *reason;
};

TEST(CfgArgs, ErrorsSayWhichFlag)
{
	const BadArgs cases[] = {
		{{"--bogus"}, "unknown option '--bogus'"},
		{{"extra"}, "unexpected argument 'extra'"},
		{{"--workers"}, "--workers needs a value"},
		{{"--workers", "abc"}, "--workers: 'abc' is not a whole number"},
		{{"--workers", "0"}, "--workers: 0 is out of range"},
		{{"--workers", "2", "--cores", "0-1"}, "--workers and --cores exclude each other"},
		{{"--cores", "0-1", "--workers", "2"}, "--workers and --cores exclude each other"},
		{{"--cores", "1-0"}, "--cores: core range '1-0' goes backwards"},
		{{"--mode", "fast"}, "--mode: 'fast' is not one of: respond, proxy"},
		{{"--dataplane", "xdp"}, "--dataplane: 'xdp'"},
		{{"--listen", "::1:8443"}, "--listen: '::1:8443': IPv6 addresses need brackets"},
		{{"--listen", "127.0.0.1"}, "--listen: '127.0.0.1' has no port"},
		{{"--cert", "a.crt"}, "--cert given 1 times but --key 0 times"},
		{{"--key", "a.key"}, "--key 'a.key' without a --cert before it"},
		{{"--cert", "a", "--key", "b", "--key", "c"}, "--key 'c' without a --cert before it"},
		{{"--tls-min", "1.0"}, "--tls-min: '1.0' is not a supported TLS version"},
		{{"--resumption", "maybe"}, "--resumption: 'maybe' is not on/off"},
		{{"--response-size", "lots"}, "--response-size: 'lots' is not a size"},
		{{"--handshake-timeout", "0"}, "--handshake-timeout: must be above 0"},
		{{"--handshake-timeout", "1x"}, "--handshake-timeout: '1x' is not a duration"},
		{{"--client-auth", "yes"}, "--client-auth: 'yes' is not one of"},
		{{"--backend", "host"}, "--backend: 'host' has no port"},
		{{"--ciphers", "A::B"}, "--ciphers: empty item"},
		{{"--tickets", "17"}, "--tickets: 17 is out of range"},
		{{"--dpdk-prefix", "0"}, "--dpdk-prefix: 0 is out of range"},
		{{"--dpdk-max-conns", "65535"}, "--dpdk-max-conns: 65535 is out of range"},
		{{"--dpdk-gateway", "::1"}, "--dpdk-gateway: '::1' is not an IPv4 address"},
		{{"--ticket-rotation", "500ms"}, "--ticket-rotation: at least 1s"},
		{{"--psk-modes", "psk_ke,psk"}, "--psk-modes: 'psk' is not one of: psk_dhe_ke, psk_ke"},
		{{"--psk-modes", ""}, "--psk-modes: empty item"},
		{{"--max-conns", "0"}, "--max-conns: 0 is out of range"},
		{{"--max-handshakes", "x"}, "--max-handshakes: 'x' is not a whole number"},
		{{"--conn-buffer", "100"}, "--conn-buffer: at least 4096 bytes"},
		{{"--batch-delay-us", "10001"}, "--batch-delay-us: 10001 is out of range"},
		{{"--batch-min", "0"}, "--batch-min: 0 is out of range"},
		{{"--max-handshake-message", "8k"}, "--max-handshake-message: at least 16384 bytes"},
		{{"--max-handshake-message", "16m"}, "--max-handshake-message: "},
		{{"--check-config=1"}, "unknown option '--check-config=1'"},
		{{"-c", "/nonexistent/x.yaml"}, "/nonexistent/x.yaml: No such file"},
		{{"-c", "a.yaml", "-c", "b.yaml"}, "-c given twice"},
	};
	for (const BadArgs &b : cases) {
		Cfg c;
		std::string err;
		EXPECT_EQ(parse(&c.c, b.args, &err), CFG_ARGS_ERROR) << b.reason;
		EXPECT_NE(err.find(b.reason), std::string::npos) << "want " << b.reason << "\ngot  " << err;
	}
}

TEST(CfgArgs, FileErrorsKeepTheirPosition)
{
	TempDir dir;
	std::string file = dir.write("bad.yaml", "mode: respond\nlisteners:\n  - listen: 1.2.3.4:5\n    tls: {groups: [P-521]}\n");
	Cfg c;
	std::string err;
	EXPECT_EQ(parse(&c.c, {"-c", file}, &err), CFG_ARGS_ERROR);
	EXPECT_EQ(err.rfind(file + ":4:20: listeners[0].tls.groups: unknown group 'P-521'", 0), 0u) << err;
}

// ---------------------------------------------------------------- validate

TEST(CfgValidate, WholeConfigurationChecks)
{
	TempDir dir;
	std::string crt = dir.write("s.crt", "x\n"), key = dir.write("s.key", "x\n"), ca = dir.write("ca.crt", "x\n");
	struct Case {
		std::vector<std::string> args;
		const char *reason; // nullptr: valid
	};
	const Case cases[] = {
		{{"--cert", crt, "--key", key}, nullptr},
		{{"--cert", crt, "--key", key, "--listen", "[::1]:8443", "--listen", "127.0.0.1:8443"}, nullptr},
		{{}, "listener 127.0.0.1:8443 (default): no certificate"},
		{{"--cert", crt, "--key", dir.path() + "/missing.key"}, "key '"},
		{{"--cert", dir.path(), "--key", key}, "not a regular file"},
		{{"--cert", crt, "--key", key, "--tls-min", "1.3", "--tls-max", "1.2"},
		 "min_version 1.3 is above max_version 1.2"},
		{{"--cert", crt, "--key", key, "--mode", "proxy"}, "mode proxy needs at least one backend"},
		{{"--cert", crt, "--key", key, "--mode", "proxy", "--backend", "localhost:8080"}, nullptr},
		{{"--cert", crt, "--key", key, "--client-auth", "require"}, "client_auth require needs a CA file"},
		{{"--cert", crt, "--key", key, "--ca", ca}, "a CA file is set but client_auth is none"},
		{{"--cert", crt, "--key", key, "--client-auth", "optional", "--ca", ca}, nullptr},
		{{"--cert", crt, "--key", key, "--client-auth", "optional", "--ca", dir.path() + "/no.crt"},
		 "CA '"},
		{{"--cert", crt, "--key", key, "--listen", "127.0.0.1:1", "--listen", "127.0.0.1:1"}, "overlaps"},
		{{"--cert", crt, "--key", key, "--listen", "0.0.0.0:1", "--listen", "127.0.0.1:1"}, "overlaps"},
		{{"--cert", crt, "--key", key, "--cores", "1023"}, "core 1023 is not available"},
		{{"--cert", crt, "--key", key, "--session-cache", "0"}, "session cache has no room"},
		{{"--cert", crt, "--key", key, "--session-cache", "0", "--resumption", "off"}, nullptr},
		{{"--cert", crt, "--key", key, "--ciphers", "modern", "--tls-min", "1.3"}, nullptr},
		{{"--cert", crt, "--key", key, "--session-store", "redis://127.0.0.1:6379"},
		 TLSO_HAVE_HIREDIS ? nullptr : "this build has no hiredis"},
#if TLSO_HAVE_DPDK && TLSO_HAVE_HIREDIS
		// a store thread does the Redis I/O for the lcores (dp_sthread.h)
		{{"--cert", crt, "--key", key, "--dataplane", "dpdk", "--session-store", "redis://127.0.0.1:6379"},
		 nullptr},
#endif
	};
	for (const Case &k : cases) {
		Cfg c;
		std::string err;
		ASSERT_EQ(parse(&c.c, k.args, &err), CFG_ARGS_OK) << err;
		std::string v = validate(&c.c);
		if (k.reason == nullptr)
			EXPECT_EQ(v, "");
		else
			EXPECT_NE(v.find(k.reason), std::string::npos) << "want " << k.reason << "\ngot  " << v;
	}
}

TEST(CfgValidate, ListenerErrorsNameTheFileLine)
{
	TempDir dir;
	Cfg c;
	std::string err;
	ASSERT_EQ(load_text(dir, &c.c, "workers: 1\nlisteners:\n  - listen: 127.0.0.1:8443\n", &err), 0) << err;
	std::string v = validate(&c.c);
	EXPECT_NE(v.find(dir.path() + "/tls.yaml:3:5"), std::string::npos) << v;
	EXPECT_NE(v.find("no certificate"), std::string::npos) << v;
}

TEST(CfgValidate, HandBuiltStructs)
{
	TempDir dir;
	std::string crt = dir.write("s.crt", "x\n");
	Cfg c;
	std::string err;
	ASSERT_EQ(parse(&c.c, {"--cert", crt, "--key", crt}, &err), CFG_ARGS_OK) << err;
	ASSERT_EQ(validate(&c.c), "");
	// A key without its certificate.
	free(c.c.listeners[0].certs[0].cert_file);
	c.c.listeners[0].certs[0].cert_file = nullptr;
	EXPECT_NE(validate(&c.c).find("without a certificate"), std::string::npos);
	c.c.listeners[0].certs[0].cert_file = strdup(crt.c_str());
	// workers must match a core list.
	c.c.n_cores = 1;
	c.c.cores[0] = 0;
	c.c.workers = 2;
	EXPECT_NE(validate(&c.c).find("workers (2) does not match the 1 cores"), std::string::npos);
	c.c.workers = 1;
	EXPECT_EQ(validate(&c.c), "");
	c.c.workers = 0;
	c.c.n_cores = 0;
	EXPECT_NE(validate(&c.c).find("workers must be"), std::string::npos);
	c.c.workers = 1;
	c.c.listeners[0].addr.port = 0;
	EXPECT_NE(validate(&c.c).find("port"), std::string::npos);
	c.c.listeners[0].addr.port = 8443;
	c.c.handshake_timeout_ms = 0;
	EXPECT_NE(validate(&c.c).find("handshake_timeout"), std::string::npos);
	c.c.handshake_timeout_ms = 1;
	c.c.mode = (enum cfg_mode)7;
	EXPECT_NE(validate(&c.c).find("unknown mode"), std::string::npos);
	c.c.mode = CFG_MODE_RESPOND;
	c.c.listeners[0].tls.policy = CFG_POLICY_MODERN;
	c.c.listeners[0].tls.ciphers[0] = strdup("TLS_AES_128_GCM_SHA256");
	c.c.listeners[0].tls.n_ciphers = 1;
	EXPECT_NE(validate(&c.c).find("either a policy (modern) or a ciphers list"), std::string::npos);
	c.c.listeners[0].tls.policy = CFG_POLICY_NONE;
	EXPECT_EQ(validate(&c.c), "");
}

// ---------------------------------------------------------------- values

TEST(CfgValue, Durations)
{
	struct {
		const char *s;
		uint32_t ms;
	} ok[] = {{"10s", 10000}, {"500ms", 500}, {"10", 10000}, {"0", 0}, {"2m", 120000},
		  {"1h", 3600000}, {"4294967ms", 4294967}, {"4294967s", 4294967000u}};
	for (auto &k : ok) {
		uint32_t ms = 1;
		char err[128];
		ASSERT_EQ(cfg_value_parse_duration(k.s, &ms, err, sizeof(err)), 0) << k.s << ": " << err;
		EXPECT_EQ(ms, k.ms) << k.s;
	}
	for (const char *bad : {"", "s", "10x", "-1", "1.5s", "10 s", "10S", "4294968s", "99999999999999999999",
				"1d", " 10"}) {
		uint32_t ms = 7;
		char err[128] = "";
		EXPECT_NE(cfg_value_parse_duration(bad, &ms, err, sizeof(err)), 0) << bad;
		EXPECT_EQ(ms, 7u);
		EXPECT_NE(err[0], '\0');
	}
}

TEST(CfgValue, Sizes)
{
	uint64_t v;
	char err[128];
	ASSERT_EQ(cfg_value_parse_size("16k", 1 << 30, &v, err, sizeof(err)), 0);
	EXPECT_EQ(v, 16384u);
	ASSERT_EQ(cfg_value_parse_size("3M", 1 << 30, &v, err, sizeof(err)), 0);
	EXPECT_EQ(v, 3u << 20);
	ASSERT_EQ(cfg_value_parse_size("1g", 1 << 30, &v, err, sizeof(err)), 0);
	EXPECT_EQ(v, 1u << 30);
	ASSERT_EQ(cfg_value_parse_size("0", 10, &v, err, sizeof(err)), 0);
	EXPECT_EQ(v, 0u);
	EXPECT_NE(cfg_value_parse_size("2g", 1 << 30, &v, err, sizeof(err)), 0);
	EXPECT_NE(cfg_value_parse_size("1kb", 1 << 30, &v, err, sizeof(err)), 0);
	EXPECT_NE(cfg_value_parse_size("k", 1 << 30, &v, err, sizeof(err)), 0);
	EXPECT_NE(cfg_value_parse_size("18446744073709551615k", UINT64_MAX, &v, err, sizeof(err)), 0);
}

TEST(CfgValue, Cores)
{
	uint16_t cores[8];
	size_t n = 0;
	char err[128];
	ASSERT_EQ(cfg_value_parse_cores("0-1,3", cores, 8, &n, err, sizeof(err)), 0) << err;
	ASSERT_EQ(n, 3u);
	EXPECT_EQ(cores[0], 0);
	EXPECT_EQ(cores[1], 1);
	EXPECT_EQ(cores[2], 3);
	n = 0;
	ASSERT_EQ(cfg_value_parse_cores("7, 2-4", cores, 8, &n, err, sizeof(err)), 0) << err;
	ASSERT_EQ(n, 4u);
	EXPECT_EQ(cores[0], 7);
	EXPECT_EQ(cores[3], 4);
	n = 0;
	ASSERT_EQ(cfg_value_parse_cores("1023", cores, 8, &n, err, sizeof(err)), 0) << err;
	EXPECT_EQ(cores[0], 1023);
	for (const char *bad : {"", ",", "1,", "3-1", "1,1", "0-2,2", "a", "1-", "-1", "1024", "0-8", "1.5"}) {
		n = 0;
		EXPECT_NE(cfg_value_parse_cores(bad, cores, 8, &n, err, sizeof(err)), 0) << bad;
	}
}

TEST(CfgValue, AddressesIPv4AndIPv6)
{
	struct cfg_addr a;
	char err[256];
	ASSERT_EQ(cfg_value_parse_addr("[::1]:8443", false, &a, err, sizeof(err)), 0) << err;
	EXPECT_EQ(a.family, AF_INET6);
	EXPECT_STREQ(a.host, "::1");
	EXPECT_EQ(a.port, 8443);
	auto *sin6 = (const struct sockaddr_in6 *)&a.sa;
	EXPECT_EQ(sin6->sin6_family, AF_INET6);
	EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	EXPECT_EQ(ntohs(sin6->sin6_port), 8443);
	char buf[300];
	cfg_addr_format(&a, buf, sizeof(buf));
	EXPECT_STREQ(buf, "[::1]:8443");

	ASSERT_EQ(cfg_value_parse_addr("[::]:443", false, &a, err, sizeof(err)), 0) << err;
	EXPECT_TRUE(IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a.sa)->sin6_addr));
	ASSERT_EQ(cfg_value_parse_addr("[2001:db8::17]:1", false, &a, err, sizeof(err)), 0) << err;
	EXPECT_EQ(((const struct sockaddr_in6 *)&a.sa)->sin6_addr.s6_addr[15], 0x17);

	std::string ll = "[fe80::1%lo]:8443";
	ASSERT_EQ(cfg_value_parse_addr(ll.c_str(), false, &a, err, sizeof(err)), 0) << err;
	EXPECT_EQ(((const struct sockaddr_in6 *)&a.sa)->sin6_scope_id, if_nametoindex("lo"));

	ASSERT_EQ(cfg_value_parse_addr("10.1.2.3:80", false, &a, err, sizeof(err)), 0) << err;
	EXPECT_EQ(a.family, AF_INET);
	EXPECT_EQ(((const struct sockaddr_in *)&a.sa)->sin_addr.s_addr, htonl(0x0a010203));
	EXPECT_EQ(a.sa_len, sizeof(struct sockaddr_in));

	ASSERT_EQ(cfg_value_parse_addr("backend-1.example:8080", true, &a, err, sizeof(err)), 0) << err;
	EXPECT_EQ(a.family, AF_UNSPEC);
	EXPECT_EQ(a.sa_len, 0u);
	EXPECT_STREQ(a.host, "backend-1.example");

	for (const char *bad : {"::1:8443", "[::1]8443", "[::1]:", "[::1]:0", "[::1]:65536", "[127.0.0.1]:80",
				"1.2.3:80", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:+80", "127.0.0.1:80x",
				"[fe80::1%nosuchif0]:1", "localhost:80", "[::1"})
		EXPECT_NE(cfg_value_parse_addr(bad, false, &a, err, sizeof(err)), 0) << bad;
	for (const char *bad : {"-host:80", "host-:80", "a..b:80", "1.2.3:80", "bad_name:80", "h:0"})
		EXPECT_NE(cfg_value_parse_addr(bad, true, &a, err, sizeof(err)), 0) << bad;
}

TEST(CfgValue, WordsAreExact)
{
	int v = -1;
	char err[256];
	ASSERT_EQ(cfg_value_parse_word(cfg_mode_words, "proxy", &v, err, sizeof(err)), 0);
	EXPECT_EQ(v, CFG_MODE_PROXY);
	EXPECT_NE(cfg_value_parse_word(cfg_mode_words, "Proxy", &v, err, sizeof(err)), 0);
	EXPECT_STREQ(err, "'Proxy' is not one of: respond, proxy");
	bool b = false;
	ASSERT_EQ(cfg_value_parse_bool("ON", &b, err, sizeof(err)), 0);
	EXPECT_TRUE(b);
	ASSERT_EQ(cfg_value_parse_bool("no", &b, err, sizeof(err)), 0);
	EXPECT_FALSE(b);
	EXPECT_NE(cfg_value_parse_bool("1", &b, err, sizeof(err)), 0);
	uint16_t ver = 1;
	ASSERT_EQ(cfg_value_parse_version("TLSv1.2", &ver, err, sizeof(err)), 0);
	EXPECT_EQ(ver, CFG_TLS12);
	ASSERT_EQ(cfg_value_parse_version("default", &ver, err, sizeof(err)), 0);
	EXPECT_EQ(ver, 0);
	EXPECT_NE(cfg_value_parse_version("1.30", &ver, err, sizeof(err)), 0);
}

// ---------------------------------------------------------------- TLS names

TEST(CfgTls, GroupAndSignatureCodePoints)
{
	// RFC 8446 4.2.7 and RFC 7919 2.
	EXPECT_EQ(cfg_tls_group_id("x25519"), 0x001d);
	EXPECT_EQ(cfg_tls_group_id("secp256r1"), 0x0017);
	EXPECT_EQ(cfg_tls_group_id("X25519MLKEM768"), 0x11ec); // issue 17, OpenSSL's spelling
	EXPECT_EQ(cfg_tls_group_id("x25519mlkem768"), 0x11ec);
	EXPECT_EQ(cfg_tls_group_id("p-256"), 0x0017);
	EXPECT_EQ(cfg_tls_group_id("P-384"), 0x0018);
	EXPECT_EQ(cfg_tls_group_id("ffdhe2048"), 0x0100);
	EXPECT_EQ(cfg_tls_group_id("ffdhe3072"), 0x0101);
	EXPECT_EQ(cfg_tls_group_id("x448"), 0);
	// RFC 8446 4.2.3.
	EXPECT_EQ(cfg_tls_sigalg_id("rsa_pss_rsae_sha256"), 0x0804);
	EXPECT_EQ(cfg_tls_sigalg_id("RSA-PSS+SHA256"), 0x0804);
	EXPECT_EQ(cfg_tls_sigalg_id("ecdsa_secp384r1_sha384"), 0x0503);
	EXPECT_EQ(cfg_tls_sigalg_id("ECDSA+SHA256"), 0x0403);
	EXPECT_EQ(cfg_tls_sigalg_id("rsa_pkcs1_sha1"), 0x0201);
	EXPECT_EQ(cfg_tls_sigalg_id("ed25519"), 0x0807);
	EXPECT_EQ(cfg_tls_sigalg_id("rsa_pss_sha256"), 0);
}

TEST(CfgTls, CheckRefusesDuplicatesAndBadAlpn)
{
	struct cfg_tls t;
	char err[256];
	cfg_tls_init(&t);
	ASSERT_EQ(cfg_tls_check(&t, err, sizeof(err)), 0);
	t.groups[0] = strdup("P-256");
	t.groups[1] = strdup("secp256r1");
	t.n_groups = 2;
	EXPECT_NE(cfg_tls_check(&t, err, sizeof(err)), 0);
	EXPECT_NE(std::string(err).find("listed twice"), std::string::npos) << err;
	free(t.groups[1]);
	t.n_groups = 1;
	ASSERT_EQ(cfg_tls_check(&t, err, sizeof(err)), 0) << err;
	t.alpn[0] = strdup(std::string(256, 'a').c_str());
	t.n_alpn = 1;
	EXPECT_NE(cfg_tls_check(&t, err, sizeof(err)), 0);
	struct cfg_tls copy;
	cfg_tls_init(&copy);
	ASSERT_EQ(cfg_tls_copy(&copy, &t), 0);
	EXPECT_STREQ(copy.groups[0], "P-256");
	EXPECT_NE(copy.groups[0], t.groups[0]);
	cfg_tls_free(&copy);
	cfg_tls_free(&t);
	char s[8];
	EXPECT_EQ(cfg_tls_suites_string(&t, s, sizeof(s)), 0);
	EXPECT_STREQ(s, "");
	t.policy = CFG_POLICY_INTERMEDIATE;
	EXPECT_EQ(cfg_tls_suites_string(&t, s, sizeof(s)), -1); // does not fit
}

// ---------------------------------------------------------------- proxy

TEST(CfgProxy, DefaultsAreRoundRobinWithChecksAndNoHeader)
{
	Cfg c;
	EXPECT_EQ(c.c.proxy.balance, CFG_BALANCE_ROUNDROBIN);
	EXPECT_EQ(c.c.proxy.connect_timeout_ms, (uint32_t)CFG_DEFAULT_CONNECT_TIMEOUT_MS);
	EXPECT_EQ(c.c.proxy.health_interval_ms, (uint32_t)CFG_DEFAULT_HEALTH_INTERVAL_MS);
	EXPECT_EQ(c.c.proxy.health_rise, (unsigned)CFG_DEFAULT_HEALTH_RISE);
	EXPECT_EQ(c.c.proxy.health_fall, (unsigned)CFG_DEFAULT_HEALTH_FALL);
	EXPECT_EQ(c.c.proxy.proxy_protocol, CFG_PROXY_PROTOCOL_OFF);
}

TEST(CfgProxy, SectionSetsThePool)
{
	TempDir dir;
	Cfg c;
	std::string err;
	ASSERT_EQ(load_text(dir, &c.c,
			    "mode: proxy\nproxy:\n  backends: [127.0.0.1:9001, \"[::1]:9002\", app.internal:80]\n"
			    "  balance: leastconn\n  connect_timeout: 250ms\n"
			    "  health: {interval: 1s, rise: 1, fall: 4}\n  proxy_protocol: v2\n",
			    &err),
		  0)
		<< err;
	EXPECT_EQ(c.c.mode, CFG_MODE_PROXY);
	ASSERT_EQ(c.c.n_backends, 3u);
	EXPECT_EQ(c.c.backends[0].port, 9001);
	EXPECT_EQ(c.c.backends[1].family, AF_INET6);
	EXPECT_EQ(c.c.backends[2].family, AF_UNSPEC);
	EXPECT_STREQ(c.c.backends[2].host, "app.internal");
	EXPECT_EQ(c.c.proxy.balance, CFG_BALANCE_LEASTCONN);
	EXPECT_EQ(c.c.proxy.connect_timeout_ms, 250u);
	EXPECT_EQ(c.c.proxy.health_interval_ms, 1000u);
	EXPECT_EQ(c.c.proxy.health_rise, 1u);
	EXPECT_EQ(c.c.proxy.health_fall, 4u);
	EXPECT_EQ(c.c.proxy.proxy_protocol, CFG_PROXY_PROTOCOL_V2);
	// printed and reloaded: the same pool
	Cfg b;
	std::string printed = print(&c.c);
	ASSERT_EQ(load_text(dir, &b.c, printed, &err, "printed.yaml"), 0) << err << printed;
	EXPECT_EQ(print(&b.c), printed);
	EXPECT_EQ(b.c.proxy.balance, CFG_BALANCE_LEASTCONN);
	EXPECT_EQ(b.c.proxy.health_fall, 4u);
}

TEST(CfgProxy, HealthIntervalZeroTurnsActiveChecksOff)
{
	TempDir dir;
	Cfg c;
	std::string err;
	ASSERT_EQ(load_text(dir, &c.c, "proxy:\n  health:\n    interval: 0\n", &err), 0) << err;
	EXPECT_EQ(c.c.proxy.health_interval_ms, 0u);
	EXPECT_EQ(c.c.proxy.health_rise, (unsigned)CFG_DEFAULT_HEALTH_RISE);
}

TEST(CfgProxy, FlagsOverrideTheSection)
{
	TempDir dir;
	std::string file = dir.write("p.yaml", "proxy:\n  backends: [127.0.0.1:1]\n  balance: leastconn\n");
	Cfg c;
	std::string err;
	ASSERT_EQ(parse(&c.c,
			{"-c", file, "--balance", "roundrobin", "--proxy-protocol=v2", "--backend", "127.0.0.1:2"},
			&err),
		  CFG_ARGS_OK)
		<< err;
	EXPECT_EQ(c.c.proxy.balance, CFG_BALANCE_ROUNDROBIN);
	EXPECT_EQ(c.c.proxy.proxy_protocol, CFG_PROXY_PROTOCOL_V2);
	ASSERT_EQ(c.c.n_backends, 1u);
	EXPECT_EQ(c.c.backends[0].port, 2);
	Cfg d;
	EXPECT_EQ(parse(&d.c, {"--balance", "random"}, &err), CFG_ARGS_ERROR);
	EXPECT_EQ(err, "--balance: 'random' is not one of: roundrobin, leastconn");
	EXPECT_EQ(parse(&d.c, {"--proxy-protocol", "v1"}, &err), CFG_ARGS_ERROR);
	EXPECT_EQ(err, "--proxy-protocol: 'v1' is not one of: off, v2");
}

TEST(CfgProxy, ValidateRefusesHandBuiltNonsense)
{
	TempDir dir;
	std::string crt = dir.write("a.crt", "x"), key = dir.write("a.key", "x");
	Cfg c;
	std::string err;
	ASSERT_EQ(parse(&c.c, {"--cert", crt, "--key", key, "--mode", "proxy", "--backend", "127.0.0.1:1"}, &err),
		  CFG_ARGS_OK)
		<< err;
	EXPECT_EQ(validate(&c.c), "");
	c.c.proxy.health_rise = 0;
	EXPECT_NE(validate(&c.c).find("rise and fall must be 1..100"), std::string::npos);
	c.c.proxy.health_rise = 2;
	c.c.proxy.connect_timeout_ms = 0;
	EXPECT_NE(validate(&c.c).find("connect_timeout must be above 0"), std::string::npos);
	c.c.proxy.connect_timeout_ms = 1;
	c.c.proxy.balance = (enum cfg_balance)7;
	EXPECT_NE(validate(&c.c).find("unknown balance 7"), std::string::npos);
}

// ---- metrics and logs (issue 15) ----

TEST(CfgLogs, DefaultsAreTextNoAccessLogNoMetrics)
{
	Cfg c;
	EXPECT_EQ(c.c.log_format, CFG_LOG_TEXT);
	EXPECT_EQ(c.c.access_log, nullptr);
	EXPECT_FALSE(c.c.metrics_on);
}

TEST(CfgLogs, KeysAndFlags)
{
	TempDir dir;
	Cfg c;
	std::string err;
	ASSERT_EQ(load_text(dir, &c.c, "log_format: json\naccess_log: /tmp/a.log\nmetrics: \"[::1]:9100\"\n", &err), 0)
		<< err;
	EXPECT_EQ(c.c.log_format, CFG_LOG_JSON);
	EXPECT_STREQ(c.c.access_log, "/tmp/a.log");
	ASSERT_TRUE(c.c.metrics_on);
	EXPECT_EQ(c.c.metrics.family, AF_INET6);
	EXPECT_EQ(c.c.metrics.port, 9100);
	// printed and reloaded: the same
	Cfg b;
	std::string printed = print(&c.c);
	ASSERT_EQ(load_text(dir, &b.c, printed, &err, "printed.yaml"), 0) << err << printed;
	EXPECT_EQ(print(&b.c), printed);
	// flags override the file
	std::string file = dir.write("l.yaml", "log_format: json\nmetrics: 127.0.0.1:1\n");
	Cfg d;
	ASSERT_EQ(parse(&d.c, {"-c", file, "--log-format", "text", "--access-log", "-", "--metrics=127.0.0.1:9200"},
			&err),
		  CFG_ARGS_OK)
		<< err;
	EXPECT_EQ(d.c.log_format, CFG_LOG_TEXT);
	EXPECT_STREQ(d.c.access_log, "-");
	EXPECT_EQ(d.c.metrics.port, 9200);
	Cfg e;
	EXPECT_EQ(parse(&e.c, {"--log-format", "xml"}, &err), CFG_ARGS_ERROR);
	EXPECT_EQ(err, "--log-format: 'xml' is not one of: text, json");
	EXPECT_EQ(parse(&e.c, {"--metrics", "localhost:9100"}, &err), CFG_ARGS_ERROR);
	EXPECT_EQ(parse(&e.c, {"--access-log", ""}, &err), CFG_ARGS_ERROR);
}
