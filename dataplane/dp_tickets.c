#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dp_log.h"
#include "dp_tickets.h"
#include "hsk_ticket.h"

#define DP_TICKET_KEEP 3 /* current + 2 previous keys open tickets */

struct dp_tickets {
	struct hsk_tickets *t;
	const char *key_file;
	uint32_t rotation_s;
	struct timespec mtime;
	atomic_bool stop;
	pthread_t thread;
};

static bool
dp_tickets_file_changed(struct dp_tickets *d)
{
	struct stat st;

	if (stat(d->key_file, &st) != 0)
		return false;
	if (st.st_mtim.tv_sec == d->mtime.tv_sec && st.st_mtim.tv_nsec == d->mtime.tv_nsec)
		return false;
	d->mtime = st.st_mtim;
	return true;
}

static void *
dp_tickets_main(void *arg)
{
	struct dp_tickets *d = arg;
	uint64_t waited = 0;

	while (!atomic_load(&d->stop)) {
		struct timespec one = { 1, 0 };

		nanosleep(&one, NULL);
		waited++;
		if (d->key_file != NULL) {
			char err[256];

			if (dp_tickets_file_changed(d)) {
				if (hsk_tickets_load_file(d->t, d->key_file, err, sizeof(err)) == 0)
					dp_log(DP_LOG_INFO, "ticket keys reloaded from %s", d->key_file);
				else
					dp_log(DP_LOG_WARN, "ticket keys kept: %s", err);
			}
		} else if (waited >= d->rotation_s) {
			waited = 0;
			if (hsk_tickets_rotate(d->t, DP_TICKET_KEEP) == 0)
				dp_log(DP_LOG_DEBUG, "ticket keys rotated");
		}
	}
	return NULL;
}

struct dp_tickets *
dp_tickets_start(struct hsk_tickets *t, const char *key_file, uint32_t rotation_s)
{
	struct dp_tickets *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->t = t;
	d->key_file = key_file;
	d->rotation_s = rotation_s ? rotation_s : 1;
	if (key_file != NULL)
		(void)dp_tickets_file_changed(d); /* the caller loaded this version */
	if (pthread_create(&d->thread, NULL, dp_tickets_main, d) != 0) {
		dp_log(DP_LOG_ERROR, "cannot start the ticket key thread");
		free(d);
		return NULL;
	}
	return d;
}

void
dp_tickets_stop(struct dp_tickets *d)
{
	if (d == NULL)
		return;
	atomic_store(&d->stop, true);
	pthread_join(d->thread, NULL);
	free(d);
}
