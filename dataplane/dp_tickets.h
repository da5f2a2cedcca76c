/* The ticket-key control thread: rotates the session-ticket keys on a
 * period (a new random current key, the previous ones kept for
 * decryption), or follows a key file shared by a fleet (re-read when its
 * modification time changes). Workers never wait for it: it publishes a
 * new immutable key set with an atomic swap (hsk_ticket.h). */
#ifndef DP_TICKETS_H
#define DP_TICKETS_H

#include <stddef.h>
#include <stdint.h>

struct hsk_tickets;
struct dp_tickets;

/* key_file may be NULL; when set, the caller has loaded it into t already
 * and the thread follows its later changes. NULL on failure (logged). */
struct dp_tickets *dp_tickets_start(struct hsk_tickets *t, const char *key_file, uint32_t rotation_s);
void dp_tickets_stop(struct dp_tickets *d);
/* A reload (SIGHUP): read the key file again now, whatever its time.
 * 0 (also without a key file), or -1 with a message (the keys in use
 * stay). */
int dp_tickets_reread(struct dp_tickets *d, char *err, size_t errlen);

#endif
