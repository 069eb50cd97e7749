/* The entity table: names are stable identifiers (policy files and audit
 * records use them), so rows may be added but never renamed. */
#include "policies/entity.h"

#include <string.h>

#define C DATA_CLASS_CONFIDENTIAL
#define R DATA_CLASS_RESTRICTED

static const struct entity_info entity_table[ENTITY_BUILTIN_COUNT] = {
	[ENTITY_EMAIL]                      = { "email", "EMAIL", ENTITY_GROUP_CONTACT, C },
	[ENTITY_PHONE]                      = { "phone", "PHONE", ENTITY_GROUP_CONTACT, C },
	[ENTITY_IP_ADDRESS]                 = { "ip_address", "IP_ADDRESS", ENTITY_GROUP_CONTACT, C },
	[ENTITY_MAC_ADDRESS]                = { "mac_address", "MAC_ADDRESS", ENTITY_GROUP_CONTACT, C },
	[ENTITY_IBAN]                       = { "iban", "IBAN", ENTITY_GROUP_FINANCIAL, C },
	[ENTITY_PAYMENT_CARD]               = { "payment_card", "PAYMENT_CARD", ENTITY_GROUP_FINANCIAL, R },
	[ENTITY_BIC]                        = { "bic", "BIC", ENTITY_GROUP_FINANCIAL, C },
	[ENTITY_VAT_ID]                     = { "vat_id", "VAT_ID", ENTITY_GROUP_FINANCIAL, C },
	[ENTITY_DE_TAX_ID]                  = { "de_tax_id", "DE_TAX_ID", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_DE_ID_CARD]                 = { "de_id_card", "DE_ID_CARD", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_DE_PENSION_NUMBER]          = { "de_pension_number", "DE_PENSION_NUMBER", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_DE_HEALTH_INSURANCE_NUMBER] = { "de_health_insurance_number", "DE_HEALTH_INSURANCE_NUMBER", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_AT_SOCIAL_SECURITY_NUMBER]  = { "at_social_security_number", "AT_SOCIAL_SECURITY_NUMBER", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_FR_NIR]                     = { "fr_nir", "FR_NIR", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_ES_DNI]                     = { "es_dni", "ES_DNI", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_ES_NIE]                     = { "es_nie", "ES_NIE", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_IT_FISCAL_CODE]             = { "it_fiscal_code", "IT_FISCAL_CODE", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_NL_BSN]                     = { "nl_bsn", "NL_BSN", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_PL_PESEL]                   = { "pl_pesel", "PL_PESEL", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_BE_NATIONAL_NUMBER]         = { "be_national_number", "BE_NATIONAL_NUMBER", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_GB_NINO]                    = { "gb_nino", "GB_NINO", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_GB_NHS_NUMBER]              = { "gb_nhs_number", "GB_NHS_NUMBER", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_US_SSN]                     = { "us_ssn", "US_SSN", ENTITY_GROUP_NATIONAL_ID, R },
	[ENTITY_PERSON]                     = { "person", "PERSON", ENTITY_GROUP_PERSON, C },
	[ENTITY_DATE_OF_BIRTH]              = { "date_of_birth", "DATE_OF_BIRTH", ENTITY_GROUP_PERSON, C },
	[ENTITY_POSTAL_ADDRESS]             = { "postal_address", "ADDRESS", ENTITY_GROUP_PERSON, C },
	[ENTITY_PRIVATE_KEY]                = { "private_key", "PRIVATE_KEY", ENTITY_GROUP_SECRET, R },
	[ENTITY_JWT]                        = { "jwt", "JWT", ENTITY_GROUP_SECRET, R },
	[ENTITY_AWS_ACCESS_KEY]             = { "aws_access_key", "AWS_ACCESS_KEY", ENTITY_GROUP_SECRET, R },
	[ENTITY_GITHUB_TOKEN]               = { "github_token", "GITHUB_TOKEN", ENTITY_GROUP_SECRET, R },
	[ENTITY_GITLAB_TOKEN]               = { "gitlab_token", "GITLAB_TOKEN", ENTITY_GROUP_SECRET, R },
	[ENTITY_SLACK_TOKEN]                = { "slack_token", "SLACK_TOKEN", ENTITY_GROUP_SECRET, R },
	[ENTITY_OPENAI_KEY]                 = { "openai_key", "OPENAI_KEY", ENTITY_GROUP_SECRET, R },
	[ENTITY_GOOGLE_API_KEY]             = { "google_api_key", "GOOGLE_API_KEY", ENTITY_GROUP_SECRET, R },
	[ENTITY_AZURE_STORAGE_KEY]          = { "azure_storage_key", "AZURE_STORAGE_KEY", ENTITY_GROUP_SECRET, R },
	[ENTITY_PASSWORD]                   = { "password", "PASSWORD", ENTITY_GROUP_SECRET, R },
	[ENTITY_GENERIC_SECRET]             = { "generic_secret", "SECRET", ENTITY_GROUP_SECRET, R },
	[ENTITY_HEALTH]                     = { "health", "HEALTH", ENTITY_GROUP_SPECIAL_CATEGORY, R },
	[ENTITY_RELIGION]                   = { "religion", "RELIGION", ENTITY_GROUP_SPECIAL_CATEGORY, R },
	[ENTITY_POLITICAL_OPINION]          = { "political_opinion", "POLITICAL_OPINION", ENTITY_GROUP_SPECIAL_CATEGORY, R },
	[ENTITY_TRADE_UNION]                = { "trade_union", "TRADE_UNION", ENTITY_GROUP_SPECIAL_CATEGORY, R },
	[ENTITY_ETHNIC_ORIGIN]              = { "ethnic_origin", "ETHNIC_ORIGIN", ENTITY_GROUP_SPECIAL_CATEGORY, R },
	[ENTITY_SEXUAL_ORIENTATION]         = { "sexual_orientation", "SEXUAL_ORIENTATION", ENTITY_GROUP_SPECIAL_CATEGORY, R },
	[ENTITY_GENETIC]                    = { "genetic", "GENETIC", ENTITY_GROUP_SPECIAL_CATEGORY, R },
	[ENTITY_BIOMETRIC]                  = { "biometric", "BIOMETRIC", ENTITY_GROUP_SPECIAL_CATEGORY, R },
	[ENTITY_CRIMINAL]                   = { "criminal", "CRIMINAL", ENTITY_GROUP_SPECIAL_CATEGORY, R },
	/* A practice is no data: these findings leave the data class alone. */
	[ENTITY_AIACT_5_1_A]                = { "aiact_5_1_a", "AIACT_5_1_A", ENTITY_GROUP_AI_ACT, DATA_CLASS_PUBLIC },
	[ENTITY_AIACT_5_1_B]                = { "aiact_5_1_b", "AIACT_5_1_B", ENTITY_GROUP_AI_ACT, DATA_CLASS_PUBLIC },
	[ENTITY_AIACT_5_1_C]                = { "aiact_5_1_c", "AIACT_5_1_C", ENTITY_GROUP_AI_ACT, DATA_CLASS_PUBLIC },
	[ENTITY_AIACT_5_1_D]                = { "aiact_5_1_d", "AIACT_5_1_D", ENTITY_GROUP_AI_ACT, DATA_CLASS_PUBLIC },
	[ENTITY_AIACT_5_1_E]                = { "aiact_5_1_e", "AIACT_5_1_E", ENTITY_GROUP_AI_ACT, DATA_CLASS_PUBLIC },
	[ENTITY_AIACT_5_1_F]                = { "aiact_5_1_f", "AIACT_5_1_F", ENTITY_GROUP_AI_ACT, DATA_CLASS_PUBLIC },
	[ENTITY_AIACT_5_1_G]                = { "aiact_5_1_g", "AIACT_5_1_G", ENTITY_GROUP_AI_ACT, DATA_CLASS_PUBLIC },
	[ENTITY_AIACT_ANNEX3_4]             = { "aiact_annex3_4", "AIACT_ANNEX3_4", ENTITY_GROUP_AI_ACT, DATA_CLASS_PUBLIC },
};

#undef C
#undef R

const struct entity_info *entity_info_get(unsigned e)
{
	return e < ENTITY_BUILTIN_COUNT ? &entity_table[e] : NULL;
}

int entity_find_by_name(const char *name)
{
	for (unsigned i = 0; i < ENTITY_BUILTIN_COUNT; i++)
		if (strcmp(entity_table[i].name, name) == 0)
			return (int)i;
	return -1;
}
