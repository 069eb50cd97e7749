/* The entity types the detectors report. One row per type in entity.c;
 * custom entities from policy files are numbered from ENTITY_BUILTIN_COUNT. */
#ifndef HAFEN_POLICIES_ENTITY_H
#define HAFEN_POLICIES_ENTITY_H

#include "policies/policy-t.h"

enum entity {
	/* contact */
	ENTITY_EMAIL,
	ENTITY_PHONE,
	ENTITY_IP_ADDRESS,
	ENTITY_MAC_ADDRESS,
	/* financial */
	ENTITY_IBAN,
	ENTITY_PAYMENT_CARD,
	ENTITY_BIC,
	ENTITY_VAT_ID,
	/* national identifiers */
	ENTITY_DE_TAX_ID,
	ENTITY_DE_ID_CARD,
	ENTITY_DE_PENSION_NUMBER,
	ENTITY_DE_HEALTH_INSURANCE_NUMBER,
	ENTITY_AT_SOCIAL_SECURITY_NUMBER,
	ENTITY_FR_NIR,
	ENTITY_ES_DNI,
	ENTITY_ES_NIE,
	ENTITY_IT_FISCAL_CODE,
	ENTITY_NL_BSN,
	ENTITY_PL_PESEL,
	ENTITY_BE_NATIONAL_NUMBER,
	ENTITY_GB_NINO,
	ENTITY_GB_NHS_NUMBER,
	ENTITY_US_SSN,
	/* people */
	ENTITY_PERSON,
	ENTITY_DATE_OF_BIRTH,
	ENTITY_POSTAL_ADDRESS,
	/* secrets */
	ENTITY_PRIVATE_KEY,
	ENTITY_JWT,
	ENTITY_AWS_ACCESS_KEY,
	ENTITY_GITHUB_TOKEN,
	ENTITY_GITLAB_TOKEN,
	ENTITY_SLACK_TOKEN,
	ENTITY_OPENAI_KEY,
	ENTITY_GOOGLE_API_KEY,
	ENTITY_AZURE_STORAGE_KEY,
	ENTITY_PASSWORD,        /* in URLs, connection strings, password= assignments */
	ENTITY_GENERIC_SECRET,  /* secret: / token: assignments with high entropy */
	/* GDPR Art. 9(1) special categories and Art. 10 criminal data */
	ENTITY_HEALTH,
	ENTITY_RELIGION,
	ENTITY_POLITICAL_OPINION,
	ENTITY_TRADE_UNION,
	ENTITY_ETHNIC_ORIGIN,
	ENTITY_SEXUAL_ORIENTATION, /* sex life or sexual orientation */
	ENTITY_GENETIC,
	ENTITY_BIOMETRIC,
	ENTITY_CRIMINAL,
	/* AI Act screening (aiact.c): what the request asks the model to do,
	 * one type per prohibited practice of Art. 5(1) and Annex III point 4 */
	ENTITY_AIACT_5_1_A,
	ENTITY_AIACT_5_1_B,
	ENTITY_AIACT_5_1_C,
	ENTITY_AIACT_5_1_D,
	ENTITY_AIACT_5_1_E,
	ENTITY_AIACT_5_1_F,
	ENTITY_AIACT_5_1_G,
	ENTITY_AIACT_ANNEX3_4,
	ENTITY_BUILTIN_COUNT
};

enum entity_group {
	ENTITY_GROUP_CONTACT,
	ENTITY_GROUP_FINANCIAL,
	ENTITY_GROUP_NATIONAL_ID,
	ENTITY_GROUP_PERSON,
	ENTITY_GROUP_SECRET,
	ENTITY_GROUP_SPECIAL_CATEGORY,
	ENTITY_GROUP_CUSTOM,
	ENTITY_GROUP_AI_ACT,
};

struct entity_info {
	const char *name;   /* stable id used in policy files, findings and the audit log: "iban" */
	const char *label;  /* placeholder / redaction label: "IBAN" -> "[IBAN]", "<IBAN_1>" */
	enum entity_group group;
	enum data_class data_class; /* default class of a finding of this type */
};

/* NULL when e >= ENTITY_BUILTIN_COUNT. */
const struct entity_info *entity_info_get(unsigned e);
/* -1 when unknown. */
int entity_find_by_name(const char *name);

#endif
