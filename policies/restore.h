/* The answer side: the streaming restorer puts pseudonymized originals back
 * into the answer, and the guard redacts secrets and personal data the model
 * itself produces, both piece by piece (SSE delta contents) with bounded
 * hold-back. Outputs point into the object's own buffer and stay valid until
 * the next call on that object. Both wipe their buffers when freed: they hold
 * answer text and originals. */
#ifndef HAFEN_POLICIES_RESTORE_H
#define HAFEN_POLICIES_RESTORE_H

#include <stddef.h>

#include "policies/policy.h"
#include "policies/rewrite.h"

struct restore_stream;

/* map is borrowed: it must outlive the restorer. */
struct restore_stream *restore_stream_new(const struct rewrite_map *map);
/* For text that is JSON source, such as tool-call arguments (streamed
 * `delta.tool_calls[].function.arguments` included): originals are put back
 * JSON-escaped (RFC 8259 section 7), so `Max "Boss" Müller` keeps the
 * arguments valid. */
struct restore_stream *restore_stream_new_json(const struct rewrite_map *map);
void restore_stream_free(struct restore_stream *rs);
/* Feeds one piece. Everything that can no longer become a placeholder is
 * released at once; only a suffix that is a proper prefix of one of the
 * map's placeholders is held back (so never more than
 * REWRITE_PLACEHOLDER_MAX - 1 bytes). */
int restore_stream_feed(struct restore_stream *rs, const char *in, size_t len,
			const char **out, size_t *outlen);
/* End of the answer: releases what was held back, unchanged. */
int restore_stream_finish(struct restore_stream *rs, const char **out, size_t *outlen);

/* The guard scans released text with a bounded carry-over window:
 * - it holds back the trailing token (no whitespace in it), extended over
 *   preceding short digit groups separated by single spaces ("DE89 3704
 *   0044"), so a secret or a number split across events is scanned whole;
 * - from a "-----BEGIN" without its "-----END" it holds back until the END
 *   line arrives or RESTORE_GUARD_PEM_MAX bytes are held, then redacts from
 *   BEGIN to the end (fail closed);
 * - each released region is scanned together with the last
 *   RESTORE_GUARD_CARRY bytes released before it (context words such as
 *   "password:" in an earlier event), and findings the response-direction
 *   rules redact, pseudonymize or block are replaced by "[LABEL]" in the
 *   part not yet released.
 * A token longer than RESTORE_GUARD_TOKEN_MAX is released scanned as it is. */
#define RESTORE_GUARD_CARRY 96
#define RESTORE_GUARD_TOKEN_MAX 4096
#define RESTORE_GUARD_PEM_MAX 16384

struct restore_guard;

/* set, ctx and the scanner are borrowed. ctx->direction should be RESPONSE. */
struct restore_guard *restore_guard_new(const struct policy_set *set,
					const struct policy_context *ctx,
					policy_scan_fn scan, void *scan_arg);
void restore_guard_free(struct restore_guard *g);
int restore_guard_feed(struct restore_guard *g, const char *in, size_t len,
		       const char **out, size_t *outlen, char *err, size_t errlen);
int restore_guard_finish(struct restore_guard *g, const char **out, size_t *outlen,
			 char *err, size_t errlen);
/* A whole text on a fresh guard (a field of a non-streamed answer): one
 * scan over all of it, like a request field, instead of the pieces a
 * stream is released in; then as restore_guard_finish. When the scan finds
 * nothing and no PEM block is open, *out is in itself: no copy is made. */
int restore_guard_whole(struct restore_guard *g, const char *in, size_t len,
			const char **out, size_t *outlen, char *err, size_t errlen);
/* 1 when restore_guard_whole would pass in as it is because its one scan
 * finds nothing and no PEM block is open (no guard needs to be made), 0
 * when the guard must run, -1 when the scan failed. */
int restore_guard_clean(const struct policy_set *set, policy_scan_fn scan, void *scan_arg, const char *in,
			size_t len, char *err, size_t errlen);

struct restore_guard_stats {
	size_t n_findings;        /* findings in the answer */
	size_t n_redacted;        /* of those, replaced before release */
	int blocked;              /* a BLOCK rule matched (the gateway may cut the stream) */
	int block_rule;           /* -1 when none */
	enum data_class data_class;
	size_t n_changed;         /* policy_request_restore_answer: text fields it changed */
};
void restore_guard_get_stats(const struct restore_guard *g, struct restore_guard_stats *st);

#endif
