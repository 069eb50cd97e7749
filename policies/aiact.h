/* AI Act screening: what a request asks the model to do, against the
 * prohibited practices of Regulation (EU) 2024/1689 Art. 5(1)(a)-(g) and
 * the employment decisions of Annex III point 4 (aiact.c).
 *
 * The model is small and explainable: every practice is a conjunction of
 * feature groups (emotion words, a biometric modality, workplace subjects,
 * ...) minus lawful contexts that clear it (medical, safety, aggregate
 * statistics, consent, ...). Features come from lexicons in DE, EN, FR, ES
 * and IT (case-folded, accents folded, prefix stems) plus the media parts of
 * the request. A negation just before a word ("do not", "nicht", "sans",
 * "sin", "senza") keeps that occurrence from counting.
 *
 * No I/O, no allocation per request: the result lives on the caller's stack.
 * Only positions leave the screener, never the matched text. */
#ifndef HAFEN_POLICIES_AIACT_H
#define HAFEN_POLICIES_AIACT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum aiact_practice {
	AIACT_PRACTICE_5_1_A, /* manipulative, deceptive or subliminal techniques */
	AIACT_PRACTICE_5_1_B, /* exploiting vulnerabilities (age, disability, social/economic) */
	AIACT_PRACTICE_5_1_C, /* social scoring leading to detrimental treatment */
	AIACT_PRACTICE_5_1_D, /* predicting criminal offences from profiling alone */
	AIACT_PRACTICE_5_1_E, /* untargeted scraping of facial images */
	AIACT_PRACTICE_5_1_F, /* emotion inference on workers or students from biometrics */
	AIACT_PRACTICE_5_1_G, /* biometric categorisation into Art. 9-like categories */
	AIACT_PRACTICE_ANNEX3_4, /* employment decision about people (high-risk) */
	AIACT_PRACTICE_COUNT
};

/* Findings of the screener carry detector = AIACT_DETECTOR_BASE + practice
 * (below the custom detectors' 0x8000, above any scanner row). */
#define AIACT_DETECTOR_BASE 0x7F00u
#define AIACT_DETECTOR_NAME "aiact"

/* Bits of the media a request carries (content parts). */
enum aiact_media {
	AIACT_MEDIA_IMAGE = 1,
	AIACT_MEDIA_AUDIO = 2,
	AIACT_MEDIA_VIDEO = 4,
};

/* The compiled lexicons; immutable once built, shared by threads. */
struct aiact_model;

/* -1 with a message in err when a lexicon row is malformed (a bug). */
struct aiact_model *aiact_model_new(char *err, size_t errlen);
void aiact_model_free(struct aiact_model *m);

/* One instruction text (a system, developer or user message, a prompt). */
struct aiact_text {
	const char *text;
	size_t len;
};

/* Where a practice was found: the anchor word of its core feature. */
struct aiact_hit {
	int found;
	size_t part;        /* index into the texts given to aiact_screen */
	uint32_t start, end; /* byte offsets in that text */
};

struct aiact_result {
	struct aiact_hit hits[AIACT_PRACTICE_COUNT];
	uint64_t features; /* bit (1 << enum aiact_feature): features present (not negated) */
	unsigned media;    /* enum aiact_media bits seen */
};

/* Screens texts[0..n) as one request with media bits. Never fails. */
void aiact_screen(const struct aiact_model *m, const struct aiact_text *texts, size_t n,
		  unsigned media, struct aiact_result *out);
/* The same, reading the texts one byte class at a time and looking up
 * every word whose bucket has rows: the reference the tests hold
 * aiact_screen's faster loop and lookup filter to (identical results). */
void aiact_screen_reference(const struct aiact_model *m, const struct aiact_text *texts, size_t n,
			    unsigned media, struct aiact_result *out);

/* The same over an OpenAI request body: the instruction texts are the
 * system, developer and user messages' content (string or text parts),
 * prompt and input; media are image, audio and video parts. fields are the
 * text fields of the pipeline's walk (request_walk.c): each hit's part is
 * the index of its field there, so findings point into the same fields the
 * scanner's do; instruction texts that are not among fields are skipped. */
void aiact_screen_request(const struct aiact_model *m, json_t *body, json_t *const *fields,
			  size_t n_fields, struct aiact_result *out);

/* How aiact_screen_request reads a request, for walkers without a tree
 * (gateway/json_span.c): 1 when a message with this role is an
 * instruction (system, developer, user; a message whose role is absent or
 * not a string counts too, which the caller decides); and what a content
 * part of this type is: -1 not one the screener reads, 0 a text part
 * (its "text" is an instruction), else its enum aiact_media bits. */
int aiact_role_instruction(const char *role, size_t len);
int aiact_part_kind(const char *type, size_t len);

/* "aiact-5-1-f", "AI Act Art. 5(1)(f)", and the entity its findings carry. */
const char *aiact_practice_rule_id(enum aiact_practice p);
const char *aiact_practice_article(enum aiact_practice p);
unsigned aiact_practice_entity(enum aiact_practice p);
/* The article for a finding's entity, NULL when it is not an AI Act one. */
const char *aiact_entity_article(unsigned entity);
/* The name of feature bit i (for explanations in tests and tools), NULL past the end. */
const char *aiact_feature_name(unsigned i);

#endif
