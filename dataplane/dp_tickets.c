#include <errno.h>
#include <pthread.h>
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
	bool stop;
	/* Between the control threads only (this one and a reload's re-read),
	 * never a worker: hsk_tickets_publish has one writer at a time. The
	 * condition ends the wait at once on stop. */
	pthread_mutex_t lock;
	pthread_cond_t wake;
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

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 1;
		if (pthread_cond_timedwait(&d->wake, &d->lock, &until) != ETIMEDOUT)
			continue; /* stop, or spurious */
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
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int
dp_tickets_reread(struct dp_tickets *d, char *err, size_t errlen)
{
	int rc = 0;

	if (d == NULL || d->key_file == NULL)
		return 0;
	pthread_mutex_lock(&d->lock);
	(void)dp_tickets_file_changed(d); /* this version is the one loaded */
	rc = hsk_tickets_load_file(d->t, d->key_file, err, errlen);
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* The wait's clock: monotonic, so that setting the date does not stall
 * rotations. */
static int
dp_tickets_clock(struct dp_tickets *d)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_condattr_init(&ca) != 0)
		return -1;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&d->wake, &ca) == 0 ? 0 : -1;
	pthread_condattr_destroy(&ca);
	return rc;
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
	if (dp_tickets_clock(d) != 0 || pthread_mutex_init(&d->lock, NULL) != 0) {
		dp_log(DP_LOG_ERROR, "cannot start the ticket key thread");
		free(d);
		return NULL;
	}
	if (pthread_create(&d->thread, NULL, dp_tickets_main, d) != 0) {
		dp_log(DP_LOG_ERROR, "cannot start the ticket key thread");
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
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
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
