/* The YAML configuration (config/cfg_yaml.c through cfg_load_file), read
 * from an in-memory file. A file that loads and validates is printed
 * (cfg_print writes YAML that cfg_load_file reads), loaded again and
 * printed again: both prints must be the same.
 *
 * Input: the file's bytes. Seeds: config/examples/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];

/* The in-memory file holds p[0..n) (no disk I/O per input). */
static void
put_file(const void *p, size_t n)
{
	if (fd < 0) {
		fd = memfd_create("fuzz-cfg.yaml", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, p, n, 0) != (ssize_t)n)
		abort();
}

/* Load path into a fresh cfg; the printed YAML (malloc'd) or NULL when
 * the file is refused. */
static char *
load_and_print(size_t *len)
{
	struct cfg cfg;
	char err[512] = "", *out = NULL;
	FILE *f;

	cfg_init(&cfg);
	if (cfg_load_file(&cfg, path, err, sizeof(err)) == 0 && cfg_validate(&cfg, err, sizeof(err)) == 0) {
		f = open_memstream(&out, len);
		if (f == NULL)
			abort();
		cfg_print(&cfg, f);
		fclose(f);
	}
	if (memchr(err, 0, sizeof(err)) == NULL)
		abort(); /* messages stay terminated */
	cfg_free(&cfg);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *first, *second;
	size_t n1 = 0, n2 = 0;

	put_file(data, size);
	first = load_and_print(&n1);
	if (first == NULL)
		return 0;
	put_file(first, n1);
	second = load_and_print(&n2);
	if (second == NULL) {
		fprintf(stderr, "cfg_print's output does not load again:\n%s\n", first);
		abort();
	}
	if (n1 != n2 || memcmp(first, second, n1) != 0) {
		fprintf(stderr, "cfg_print differs after a reload:\n%s\n---\n%s\n", first, second);
		abort();
	}
	free(first);
	free(second);
	return 0;
}
