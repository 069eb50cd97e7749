/* The purpose registry (GDPR Art. 5(1)(b), Art. 6; AI Act Art. 6 and
 * Annex III point 4): the "purposes" object of hafen.json, validated, and
 * the per-request check that binds a key to its purpose. */
#ifndef HAFEN_GATEWAY_PURPOSE_H
#define HAFEN_GATEWAY_PURPOSE_H

#include <stddef.h>

#include <jansson.h>

/* GDPR Art. 6(1) points (a) to (f). */
enum purpose_basis {
	PURPOSE_BASIS_CONSENT,              /* (a) */
	PURPOSE_BASIS_CONTRACT,             /* (b) */
	PURPOSE_BASIS_LEGAL_OBLIGATION,     /* (c) */
	PURPOSE_BASIS_VITAL_INTERESTS,      /* (d) */
	PURPOSE_BASIS_PUBLIC_TASK,          /* (e) */
	PURPOSE_BASIS_LEGITIMATE_INTERESTS, /* (f) */
	PURPOSE_BASIS_COUNT
};

/* AI Act risk categories as far as a deployer declares them. */
enum purpose_risk {
	PURPOSE_RISK_MINIMAL,
	PURPOSE_RISK_LIMITED,
	PURPOSE_RISK_HIGH,
	PURPOSE_RISK_COUNT
};

/* AI Act Annex III point 4 (employment, workers management): any of
 * these makes a purpose high-risk (Art. 6(2)) whatever "risk" says. */
enum purpose_area {
	PURPOSE_AREA_NONE,
	PURPOSE_AREA_RECRUITMENT,           /* 4(a) recruitment and selection */
	PURPOSE_AREA_SELECTION,             /* 4(a) */
	PURPOSE_AREA_PROMOTION,             /* 4(b) */
	PURPOSE_AREA_TERMINATION,           /* 4(b) */
	PURPOSE_AREA_TASK_ALLOCATION,       /* 4(b) */
	PURPOSE_AREA_PERFORMANCE_MONITORING,/* 4(b) monitoring and evaluation */
	PURPOSE_AREA_COUNT
};

#define PURPOSE_HIGH_RISK_MIN_RETENTION_DAYS 180 /* AI Act Art. 19(1), 26(6): six months */

struct purpose {
	char *id;
	char *description;
	int basis;                  /* enum purpose_basis */
	unsigned classes;           /* bit (1 << enum data_class) per class it may process */
	int class_floor;            /* enum data_class; DATA_CLASS_PUBLIC when not set */
	long long retention_days;
	int risk;                   /* enum purpose_risk as declared */
	int area;                   /* enum purpose_area */
	int high_risk;              /* effective: declared high or an Annex III area */
	int high_risk_enabled;
	char workers_informed[11];  /* YYYY-MM-DD (Art. 26(7)), "" when not set */
	char *overseer;             /* Art. 14, NULL when not set */
	/* "transparency": {body_field, notice} (AI Act Art. 50), an object
	 * (a reference held) that gateway/transparency.c checks and reads;
	 * NULL when not set. */
	json_t *transparency;
};

struct purpose_registry {
	struct purpose *purposes;
	size_t n;
};

/* Parses the "purposes" object. On error returns NULL and writes
 * "FILE: purposes.ID.field: what was expected (article)" into err. */
struct purpose_registry *purpose_registry_parse(const json_t *j, const char *file, char *err,
    size_t errlen);
void purpose_registry_free(struct purpose_registry *r);
const struct purpose *purpose_registry_find(const struct purpose_registry *r, const char *id);

const char *purpose_basis_name(int basis);
const char *purpose_risk_name(int risk);
const char *purpose_area_name(int area);
/* Data class by name ("public" ... "restricted"), -1 when unknown. */
int purpose_class_parse(const char *name);

struct filter_exchange;
/* The request check, after the policy filter has put its class into
 * x->data_class: raises the class to the key's and the purpose's floor,
 * then refuses (403, x->status / error_type / message set, returns -1)
 * a key without a registered purpose (GDPR Art. 5(1)(b)), a high-risk
 * purpose whose high-risk mode is off (AI Act Art. 6(2), 26(7)), a class
 * the purpose may not process, or a class above the key's max_class.
 * reg NULL: no registry configured, only the key's own bounds apply. */
int purpose_check_request(const struct purpose_registry *reg, struct filter_exchange *x);

#endif
