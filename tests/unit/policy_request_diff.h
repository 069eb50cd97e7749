/* The policy filter's request side two ways, for the differential tests
 * (tests/unit/test_policy_request.c, tests/fuzz/fuzz_policy_request.c):
 * once on the jansson tree (as with an audit log) and once on the
 * client's bytes (json_span_request_texts + policy_request_scan_texts, as
 * without one). Both must find, decide and rewrite alike. */
#ifndef HAFEN_TESTS_POLICY_REQUEST_DIFF_H
#define HAFEN_TESTS_POLICY_REQUEST_DIFF_H

#include <stddef.h>

struct filter_exchange;
struct policy_filter_set;

/* What a comparison went through (for tests that must cover both ways). */
struct policy_request_diff_stats {
	unsigned long compared, rewritten, blocked, findings, texts_compared, span_declined;
	/* AI Act: instruction texts screened, bodies with media, with features */
	unsigned long instructions, media, aiact_features;
	/* bodies whose texts the validating pass recorded (openai_texts),
	 * each compared with the span walk's and used by the byte run */
	unsigned long recorded;
};

/* The four shipped packs with every default detector (gdpr-default,
 * secrets, special-categories, ai-act) from $top_srcdir/policies/packs, loaded once;
 * abort() naming who when they cannot be loaded. */
struct policy_filter_set *policy_request_diff_packs(const char *who);

/* *x cleared and set up as a chat exchange of the key "k" (tenant "t",
 * purpose "chat") to the upstream "engine" under set; the caller adds the
 * body. */
void policy_request_diff_exchange(struct filter_exchange *x, struct policy_filter_set *set, const char *request_id);

/* 0: the same outcome; 1: they differ (why says where, never the text's
 * meaning beyond field numbers); -1: not a body the gateway accepts (no
 * route validates it), nothing compared. Loads the shipped packs from
 * $top_srcdir/policies/packs on the first call (abort() if it cannot). */
int policy_request_diff(const char *body, size_t len, struct policy_request_diff_stats *st, char *why,
    size_t whylen);

/* What an SSE comparison went through. */
struct policy_events_diff_stats {
	unsigned long streams, events, by_bytes, bytes_differ, refused;
	/* policy_chain_diff: streams compared, events the policy passed on
	 * unchanged (handed to the marker as parsed), streams refused */
	unsigned long chain_streams, chain_passed, chain_refused;
};

/* A chat request with the user's prompt, then stream as the upstream's
 * SSE answer, through the policy filter twice: every event parsed into a
 * tree, and by the byte walk where it applies (policy_filter.c). The same
 * return codes and the same events (data compared as JSON: the byte walk
 * splices where the tree serializes again) are required. 0 the same, 1
 * they differ (why says where), -1 the request did not pass (nothing to
 * compare). */
int policy_events_diff(const char *prompt, size_t plen, const char *stream, size_t slen,
    struct policy_events_diff_stats *st, char *why, size_t whylen);

/* The same request and stream through the policy and the transparency
 * marker (AI Act Art. 50) as the gateway chains them (filter.c: events the
 * policy passes unchanged reach the marker as parsed), against the policy
 * alone and then the marker alone on the policy's output: the same bytes
 * and the same refusal required, and with one output buffer for all events
 * too. 0 the same, 1 they differ (why), -1 the request did not pass. */
int policy_chain_diff(const char *prompt, size_t plen, const char *stream, size_t slen,
    struct policy_events_diff_stats *st, char *why, size_t whylen);

#endif
