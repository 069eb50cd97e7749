/* Compiled-in word lists of the lexicon detectors (detect_person.c,
 * detect_special.c). Keyword arrays end with a NULL word. */
#ifndef HAFEN_POLICIES_LEXICON_H
#define HAFEN_POLICIES_LEXICON_H

#include <stddef.h>

#include "policies/detector.h"

/* lexicon_names.c: given names, context SCAN_CONTEXT_GIVEN_NAME, exact case */
extern const struct detector_keyword lexicon_given_names[];
extern const size_t lexicon_given_names_count;

/* detect_person.c: 0 when its lookup tables keep the order their searches
 * rely on (stopwords sorted by length then bytes; particles grouped by
 * first letter with a matching index), else -1; for the unit tests, since
 * a misplaced entry changes findings without any error. */
int lexicon_person_tables_check(void);

#endif
