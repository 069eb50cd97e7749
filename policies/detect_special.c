/* GDPR Art. 9(1) special categories of personal data and Art. 10 data on
 * criminal convictions, in DE, EN, FR, ES and IT.
 *
 * Each category is one detector whose keywords are word stems in the shared
 * automaton (ASCII case-folded; UTF-8 bytes exact). A stem carries the
 * number of word bytes allowed after it, so "diabet" matches "Diabetes",
 * "Diabetiker", "diabetico" but a stem never swallows a longer compound
 * ("Gewerkschaft" + "starif" is a collective agreement, not a membership).
 * Stems marked COMPOUND may also end a German compound ("Brustkrebs",
 * "Sehbehinderung").
 *
 * A mention is special-category data only when it is about a person
 * (Art. 4(1) "relating to an identified or identifiable natural person"):
 * the same sentence must hold person context from the same pass — a
 * first/third-person pronoun or possessive, a role noun ("Patientin",
 * "employee", "mon fils"), a salutation, a name label or a given name.
 * "The hospital's IT budget" and "Gewerkschaftstarif für 2025
 * veröffentlicht" therefore produce nothing. French "il" and Italian
 * articles are not used as person context: "il" is the Italian article and
 * the French impersonal pronoun, which would make every sentence personal. */
#include "policies/detector.h"
#include "policies/entity.h"
#include "policies/scan.h"

#include <string.h>
#include <strings.h>

/* per-keyword data: allowed suffix bytes, and whether the stem may end a
 * compound (no word start required) */
#define SPECIAL_COMPOUND 0x80u
#define SPECIAL_SUFFIX_MASK 0x7fu

struct special_lexicon {
	const uint8_t *suffix;    /* parallel to the detector's keywords */
	/* parallel too, or NULL: the bytes that must come right before the
	 * keyword (from a word start, ASCII case-insensitive), which then
	 * begin the finding (SPECIAL_POLITICAL_AFTER) */
	const char *const *before;
};

/* (a keyword that allows no suffix ends a word: special_match() would
 * refuse a word byte after it, and as a word of its own length it is
 * looked up only at words of that length, not at every word it begins:
 * "gew", "spd", "hiv" are no stems of "gewählt", "Spedition", "hivern") */
#define SPECIAL_KW(w, suf, comp) \
	{ w, DETECTOR_KW_TRIGGER | ((comp) ? 0 : DETECTOR_KW_WORD_START) | \
	     ((suf) == 0 ? DETECTOR_KW_WORD_END : 0), SCAN_CONTEXT_NONE },
#define SPECIAL_SUF(w, suf, comp) (uint8_t)((suf) | ((comp) ? SPECIAL_COMPOUND : 0)),

/* X(stem, suffix bytes allowed, compound) */
#define SPECIAL_HEALTH(X) \
	X("diabet", 6, 0) X("diab\xc3\xa8te", 1, 0) X("krebs", 2, 1) X("krebserkrank", 4, 1) \
	X("tumor", 4, 1) X("karzinom", 3, 1) X("depression", 3, 1) X("depressiv", 3, 0) \
	X("depressed", 0, 0) X("asthm", 3, 0) X("epilep", 6, 0) X("\xc3\xa9pilep", 5, 0) \
	X("demenz", 0, 0) X("dementia", 0, 0) X("d\xc3\xa9mence", 0, 0) X("alzheimer", 2, 0) \
	X("parkinson", 2, 0) X("multiple sklerose", 0, 0) X("multiple sclerosis", 0, 0) \
	X("scl\xc3\xa9rose en plaques", 0, 0) X("esclerosis m\xc3\xbaltiple", 0, 0) \
	X("sclerosi multipla", 0, 0) X("schlaganfall", 2, 0) X("herzinfarkt", 3, 0) \
	X("heart attack", 1, 0) X("bluthochdruck", 0, 0) X("hypertension", 0, 0) X("hiv", 0, 0) \
	X("vih", 0, 0) X("hepatitis", 0, 0) X("schwanger", 6, 0) X("pregnan", 4, 0) \
	X("enceinte", 0, 0) X("grossesse", 0, 0) X("embarazad", 1, 0) X("embarazo", 0, 0) \
	X("incinta", 0, 0) X("gravidanza", 0, 0) X("krankgeschrieben", 0, 0) \
	X("krankschreibung", 0, 0) X("arbeitsunf\xc3\xa4hig", 4, 0) X("sick leave", 0, 0) \
	X("sick note", 0, 0) X("arr\xc3\xaat maladie", 0, 0) X("baja m\xc3\xa9" "dica", 0, 0) \
	X("malattia", 0, 0) X("burnout", 0, 0) X("burn-out", 0, 0) X("behinderung", 2, 1) \
	X("schwerbehindert", 3, 0) X("disability", 0, 0) X("disabled", 0, 0) \
	X("handicap", 3, 0) X("discapacidad", 0, 0) X("disabilit\xc3\xa0", 0, 0) \
	X("invalidit\xc3\xa0", 0, 0) X("rollstuhl", 0, 0) X("wheelchair", 0, 0) \
	X("insulin", 1, 0) X("chemotherap", 3, 0) X("chimioth\xc3\xa9rapie", 0, 0) \
	X("quimioterapia", 0, 0) X("chemioterapia", 0, 0) X("antidepress", 6, 0) \
	X("metformin", 1, 0) X("ritalin", 0, 0) X("methylphenidat", 1, 0) X("sertralin", 1, 0) \
	X("citalopram", 0, 0) X("fluoxetin", 1, 0) X("lithium", 0, 0) X("litio", 0, 0) X("asma", 0, 0) X("infarto", 0, 0) \
	X("infarctus", 0, 0) X("infarction", 0, 0) X("dialys", 2, 0) X("dialisi", 0, 0) \
	X("di\xc3\xa1lisis", 0, 0) X("ictus", 0, 0) X("antidepres", 6, 0) X("antid\xc3\xa9press", 5, 0) \
	X("epiless", 3, 0) X("methadon", 1, 0) \
	X("tamoxifen", 0, 0) X("levothyrox", 3, 0) X("cancer", 1, 0) X("c\xc3\xa1ncer", 0, 0) \
	X("cancro", 0, 0) X("carcinoma", 0, 0) X("tumour", 1, 0) X("anxiety disorder", 0, 0) \
	X("angstst\xc3\xb6rung", 2, 1) X("panikattacke", 1, 0) X("panic attack", 1, 0) \
	X("bipolar", 2, 0) X("schizophren", 4, 0) X("esquizofren", 2, 0) X("schizofren", 2, 0) \
	X("autism", 2, 0) X("autist", 4, 0) X("adhs", 0, 0) X("adhd", 0, 0) X("miscarriage", 1, 0) \
	X("fehlgeburt", 0, 0) X("fausse couche", 0, 0) X("aborto", 0, 0) X("diagnosed with", 0, 0) \
	X("diagnostiziert", 0, 0) X("diagnostiqu\xc3\xa9", 1, 0) X("diagnosticad", 1, 0) \
	X("diagnosticat", 1, 0) X("d\xc3\xa9pression", 1, 0) X("depresi\xc3\xb3n", 0, 0) \
	X("suchterkrank", 4, 0) X("alkoholabh\xc3\xa4ngig", 3, 0) X("alcoholi", 3, 0) \
	X("addiction", 0, 0) X("drogenabh\xc3\xa4ngig", 3, 0) X("covid-19", 0, 0) \
	X("corona-positiv", 0, 0) X("positiv getestet", 0, 0) X("tested positive", 0, 0) \
	X("migr\xc3\xa4ne", 0, 0) X("migraine", 1, 0) X("magersucht", 0, 0) X("anorexi", 2, 0) \
	X("bulimi", 2, 0) X("psychotherap", 5, 0) X("psychiatri", 5, 0) X("psychiatric", 0, 0)

#define SPECIAL_RELIGION(X) \
	X("katholi", 5, 0) X("catholi", 5, 0) X("cat\xc3\xb3lic", 2, 0) X("cattolic", 2, 0) \
	X("evangelisch", 2, 0) X("evang\xc3\xa9lic", 2, 0) X("evangelic", 3, 0) X("protestant", 3, 0) \
	X("muslim", 3, 0) X("moslem", 2, 0) X("musulman", 3, 0) X("musulm\xc3\xa1n", 0, 0) \
	X("islam", 4, 0) X("j\xc3\xbc" "disch", 2, 0) X("jewish", 0, 0) X("juif", 0, 0) X("juive", 0, 0) \
	X("jud\xc3\xado", 1, 0) X("jud\xc3\xad" "a", 0, 0) X("ebreo", 0, 0) X("ebrea", 0, 0) \
	X("buddhist", 4, 0) X("bouddhiste", 0, 0) X("budista", 0, 0) X("buddista", 0, 0) \
	X("hindu", 1, 0) X("sikh", 0, 0) X("atheist", 3, 0) X("ath\xc3\xa9" "e", 0, 0) X("ateo", 0, 0) \
	X("atea", 0, 0) X("agnosti", 3, 0) X("konfession", 4, 0) X("kirchensteuer", 0, 0) \
	X("kirchenaustritt", 0, 0) X("zeugen jehovas", 0, 0) X("zeuge jehovas", 0, 0) X("zeugin jehovas", 0, 0) \
	X("testigo de jehov\xc3\xa1", 0, 0) X("t\xc3\xa9moin de j\xc3\xa9hovah", 0, 0) X("testimone di geova", 0, 0) X("jehovah's witness", 2, 0) \
	X("moschee", 0, 0) X("mosque", 0, 0) X("mosqu\xc3\xa9" "e", 0, 0) X("mezquita", 0, 0) \
	X("moschea", 0, 0) X("synagog", 2, 0) X("sinagoga", 0, 0) X("ramadan", 0, 0) \
	X("religionszugeh\xc3\xb6rigkeit", 0, 0) X("religious belief", 1, 0) \
	X("religi\xc3\xb6se \xc3\x9c" "berzeugung", 0, 0) X("conviction religieuse", 0, 0) \
	X("creencias religiosas", 0, 0) X("fede religiosa", 0, 0) X("kopftuch", 0, 0) \
	X("hijab", 0, 0) X("kippa", 0, 0) X("goes to church", 0, 0) X("geht in die kirche", 0, 0) \
	X("va \xc3\xa0 la messe", 0, 0) X("va a misa", 0, 0) X("va a messa", 0, 0) \
	X("scientolog", 4, 0) X("freikirche", 1, 0)

#define SPECIAL_POLITICAL(X) \
	X("spd", 0, 0) X("cdu", 0, 0) X("csu", 0, 0) X("fdp", 0, 0) X("afd", 0, 0) X("bsw", 0, 0) \
	X("\xc3\xb6vp", 0, 0) X("fp\xc3\xb6", 0, 0) \
	X("parteimitglied", 3, 0) X("parteibuch", 0, 0) X("parteizugeh\xc3\xb6rigkeit", 0, 0) \
	X("politische einstellung", 0, 0) X("politische \xc3\xbc" "berzeugung", 2, 0) \
	X("political view", 1, 0) X("political opinion", 1, 0) X("political affiliation", 0, 0) \
	X("party member", 3, 0) X("opinion politique", 1, 0) X("opinions politiques", 0, 0) \
	X("ideolog\xc3\xad" "a pol\xc3\xadtica", 0, 0) X("opinioni politiche", 0, 0) \
	X("kommunist", 4, 0) X("communist", 1, 0) X("communiste", 0, 0) X("comunista", 0, 0) \
	X("sozialist", 4, 0) X("socialist", 1, 0) X("socialista", 0, 0) X("rechtsextrem", 4, 0) \
	X("linksextrem", 4, 0) X("far-right", 0, 0) X("far-left", 0, 0) X("extr\xc3\xaame droite", 0, 0) \
	X("extrema derecha", 0, 0) X("estrema destra", 0, 0) X("voted for", 0, 0) X("votes for", 0, 0) \
	X("vote for", 0, 0) X("a vot\xc3\xa9", 0, 0) X("vote pour", 0, 0) X("vot\xc3\xb3 a", 0, 0) \
	X("vota a", 0, 0) X("ha votato", 0, 0) X("vota per", 0, 0) X("democrat", 1, 0) \
	X("republican party", 0, 0) X("labour party", 0, 0) X("labour voter", 1, 0) X("tory", 0, 0) X("tories", 0, 0) \
	X("voted conservative", 0, 0) X("voted labour", 0, 0) X("voted green", 0, 0) X("conservative party", 0, 0) \
	X("rassemblement national", 0, 0) X("france insoumise", 0, 0) X("les r\xc3\xa9publicains", 0, 0) \
	X("psoe", 0, 0) X("partido popular", 0, 0) X("fratelli d'italia", 0, 0) \
	X("partito democratico", 0, 0) X("movimento 5 stelle", 0, 0) X("militant", 2, 0) \
	X("sympathisant", 2, 0) X("iscritto al partito", 0, 0) \
	X("iscritta al partito", 0, 0) X("tessera del partito", 0, 0) X("encart\xc3\xa9", 1, 0)

/* Party names whose first word is one that every German text is full of
 * ("die linke", "die grünen"): as phrases they were looked up at every
 * "die" (a fifth of pass 1's failed lookups on business text); filed
 * under the name, special_match() tests the "die " before it. */
#define SPECIAL_POLITICAL_AFTER(X) X("die ", "linke", 0, 0) X("die ", "gr\xc3\xbcnen", 0, 0)

#define SPECIAL_UNION(X) \
	X("gewerkschaft", 2, 0) X("gewerkschaftsmitglied", 3, 0) X("gewerkschafter", 2, 0) \
	X("ver.di", 0, 0) X("ig metall", 0, 0) X("ig bce", 0, 0) X("dgb", 0, 0) X("gew", 0, 0) \
	X("trade union", 1, 0) X("labor union", 1, 0) X("labour union", 1, 0) \
	X("union member", 4, 0) X("unionised", 0, 0) X("unionized", 0, 0) X("shop steward", 1, 0) \
	X("teamsters", 0, 0) X("unison", 0, 0) X("afl-cio", 0, 0) X("syndicat", 1, 0) \
	X("syndiqu\xc3\xa9", 2, 0) X("syndicaliste", 1, 0) X("d\xc3\xa9l\xc3\xa9gu\xc3\xa9 syndical", 0, 0) \
	X("cgt", 0, 0) X("cfdt", 0, 0) X("force ouvri\xc3\xa8re", 0, 0) X("sindicato", 1, 0) \
	X("sindicalista", 1, 0) X("ccoo", 0, 0) X("ugt", 0, 0) X("delegado sindical", 0, 0) \
	X("delegada sindical", 0, 0) X("sindacato", 0, 0) X("sindacati", 0, 0) \
	X("sindacalista", 0, 0) X("cgil", 0, 0) X("cisl", 0, 0) X("uil", 0, 0) \
	X("rappresentante sindacale", 0, 0)

#define SPECIAL_ETHNIC(X) \
	X("migrationshintergrund", 0, 0) X("ethnische herkunft", 0, 0) X("ethnisch", 2, 0) \
	X("ethnic", 3, 0) X("ethnie", 1, 0) X("etnia", 0, 0) X("etnic", 2, 0) X("\xc3\xa9tnic", 2, 0) \
	X("hautfarbe", 0, 0) X("skin colour", 0, 0) X("skin color", 0, 0) \
	X("couleur de peau", 0, 0) X("color de piel", 0, 0) X("colore della pelle", 0, 0) \
	X("st\xc3\xa4mmig", 2, 1) X("abstammung", 0, 0) X("descent", 0, 0) X("sinti", 0, 0) \
	X("kurde", 0, 0) X("kurdin", 0, 0) X("kurdish", 0, 0) X("afrodeutsch", 2, 0) \
	X("african american", 1, 0) X("afro-american", 1, 0) X("hispanic", 0, 0) X("latino", 0, 0) \
	X("latina", 0, 0) X("maghr\xc3\xa9" "bin", 2, 0) X("origine ethnique", 0, 0) \
	X("origen \xc3\xa9tnico", 0, 0) X("origine etnica", 0, 0) X("gitano", 0, 0) X("gitana", 0, 0) \
	X("indigenous", 0, 0) X("aboriginal", 0, 0) X("racial", 0, 0) X("raciale", 0, 0) \
	X("rassisch", 0, 0)

#define SPECIAL_SEXUAL(X) \
	X("homosexu", 4, 0) X("heterosexu", 4, 0) X("bisexu", 4, 0) \
	X("h\xc3\xa9t\xc3\xa9rosexu", 4, 0) X("omosessual", 2, 0) X("bisessual", 2, 0) \
	X("schwul", 2, 0) X("lesbisch", 2, 0) X("lesbe", 1, 0) X("lesbian", 1, 0) \
	X("lesbienne", 1, 0) X("lesbiana", 1, 0) X("lesbica", 0, 0) X("lesbiche", 0, 0) \
	X("gay", 0, 0) X("queer", 0, 0) X("transgender", 0, 0) X("sexuelle orientierung", 0, 0) \
	X("sexual orientation", 0, 0) X("orientation sexuelle", 0, 0) \
	X("orientaci\xc3\xb3n sexual", 0, 0) X("orientamento sessuale", 0, 0) \
	X("sexualleben", 0, 0) X("sex life", 0, 0) X("vie sexuelle", 0, 0) X("vida sexual", 0, 0) \
	X("vita sessuale", 0, 0) X("coming-out", 0, 0) X("came out as", 0, 0) \
	X("same-sex", 0, 0) X("gleichgeschlechtlich", 2, 0)

#define SPECIAL_GENETIC(X) \
	X("gentest", 2, 0) X("genanalyse", 1, 0) X("genetisch", 3, 0) X("genetic", 3, 0) \
	X("g\xc3\xa9n\xc3\xa9tique", 1, 0) X("gen\xc3\xa9tic", 2, 0) X("erbkrank", 4, 0) \
	X("erbanlage", 1, 0) X("dna-test", 1, 0) X("dna-analyse", 1, 0) X("dna test", 1, 0) \
	X("test adn", 0, 0) X("analyse adn", 0, 0) X("prueba de adn", 0, 0) X("test del dna", 0, 0) \
	X("genom", 2, 0) X("genome", 1, 0) X("gendefekt", 2, 0) X("brca", 1, 0) \
	X("chorea huntington", 0, 0) X("huntington's", 0, 0) X("mukoviszidose", 0, 0) \
	X("cystic fibrosis", 0, 0) X("mucoviscidose", 0, 0) X("fibrosis qu\xc3\xadstica", 0, 0) \
	X("fibrosi cistica", 0, 0) X("trisomie", 0, 0) X("hereditary", 0, 0) \
	X("vaterschaftstest", 2, 0) X("paternity test", 1, 0) X("23andme", 0, 0) \
	X("pr\xc3\xa9" "disposition", 0, 0) X("veranlagung", 0, 0)

#define SPECIAL_BIOMETRIC(X) \
	X("fingerabdr", 6, 0) X("fingerprint", 1, 0) X("gesichtserkennung", 0, 0) \
	X("gesichtsscan", 0, 0) X("facial recognition", 0, 0) X("face recognition", 0, 0) \
	X("face template", 1, 0) X("iris-scan", 0, 0) X("irisscan", 0, 0) X("iris scan", 1, 0) \
	X("retina scan", 1, 0) X("netzhautscan", 0, 0) X("biometri", 5, 0) \
	X("biom\xc3\xa9tri", 4, 0) X("biom\xc3\xa9tric", 2, 0) X("voiceprint", 1, 0) \
	X("stimmprofil", 0, 0) X("handvenen", 0, 0) X("palm vein", 0, 0) X("face id", 0, 0) X("face scan", 1, 0) X("facial scan", 1, 0) \
	X("touch id", 0, 0) X("empreinte digitale", 0, 0) X("empreintes digitales", 0, 0) \
	X("reconnaissance faciale", 0, 0) X("huella dactilar", 0, 0) \
	X("huellas dactilares", 0, 0) X("reconocimiento facial", 0, 0) \
	X("impronta digitale", 0, 0) X("impronte digitali", 0, 0) \
	X("riconoscimento facciale", 0, 0) X("gesichtsbiometrie", 0, 0)

#define SPECIAL_CRIMINAL(X) \
	X("vorbestraft", 2, 0) X("vorstrafe", 2, 0) X("verurteilt", 0, 0) X("haftstrafe", 1, 0) \
	X("freiheitsstrafe", 1, 0) X("bew\xc3\xa4hrungsstrafe", 1, 0) X("auf bew\xc3\xa4hrung", 0, 0) \
	X("strafverfahren", 0, 0) X("ermittlungsverfahren", 0, 0) X("straftat", 2, 0) \
	X("diebstahl", 1, 0) X("betrugs", 0, 0) X("k\xc3\xb6rperverletzung", 0, 0) \
	X("angeklagt", 0, 0) X("gef\xc3\xa4ngnis", 2, 0) X("inhaftiert", 0, 0) X("haft", 0, 0) \
	X("strafbefehl", 0, 0) X("convicted", 0, 0) X("conviction", 1, 0) \
	X("criminal record", 1, 0) X("prison sentence", 1, 0) X("jail", 0, 0) \
	X("imprisoned", 0, 0) X("probation", 0, 0) X("parole", 0, 0) X("charged with", 0, 0) \
	X("arrested", 0, 0) X("felony", 0, 0) X("pleaded guilty", 0, 0) \
	X("casier judiciaire", 0, 0) X("condamn\xc3\xa9", 2, 0) X("condamnation", 1, 0) \
	X("prison", 0, 0) X("peine de prison", 0, 0) X("garde \xc3\xa0 vue", 0, 0) \
	X("mis en examen", 0, 0) X("mise en examen", 0, 0) X("inculp\xc3\xa9", 2, 0) \
	X("antecedentes penales", 0, 0) X("condenad", 2, 0) X("prisi\xc3\xb3n", 0, 0) \
	X("c\xc3\xa1rcel", 0, 0) X("detenid", 2, 0) X("libertad condicional", 0, 0) \
	X("casellario giudiziale", 0, 0) X("precedenti penali", 0, 0) X("condannat", 1, 0) \
	X("carcere", 0, 0) X("arrestat", 1, 0) X("libert\xc3\xa0 vigilata", 0, 0)

#define SPECIAL_LEXICON(name, LIST) \
	static const struct detector_keyword special_kw_##name[] = { LIST(SPECIAL_KW) { NULL, 0, 0 } }; \
	static const uint8_t special_suf_##name[] = { LIST(SPECIAL_SUF) }; \
	static const struct special_lexicon special_lex_##name = { special_suf_##name, NULL }; \
	_Static_assert(sizeof special_kw_##name / sizeof special_kw_##name[0] == \
		       sizeof special_suf_##name + 1, "parallel arrays")

/* A lexicon with keywords after given bytes: LIST's, then AFTER's
 * X(before, word, suffix, compound). */
#define SPECIAL_KW_AFTER(b, w, suf, comp) SPECIAL_KW(w, suf, comp)
#define SPECIAL_SUF_AFTER(b, w, suf, comp) SPECIAL_SUF(w, suf, comp)
#define SPECIAL_NOT_AFTER(w, suf, comp) NULL,
#define SPECIAL_AFTER(b, w, suf, comp) b,
#define SPECIAL_LEXICON_AFTER(name, LIST, AFTER) \
	static const struct detector_keyword special_kw_##name[] = { \
		LIST(SPECIAL_KW) AFTER(SPECIAL_KW_AFTER) { NULL, 0, 0 } }; \
	static const uint8_t special_suf_##name[] = { LIST(SPECIAL_SUF) AFTER(SPECIAL_SUF_AFTER) }; \
	static const char *const special_before_##name[] = { LIST(SPECIAL_NOT_AFTER) AFTER(SPECIAL_AFTER) }; \
	static const struct special_lexicon special_lex_##name = { special_suf_##name, \
								   special_before_##name }; \
	_Static_assert(sizeof special_kw_##name / sizeof special_kw_##name[0] == \
		       sizeof special_suf_##name + 1, "parallel arrays"); \
	_Static_assert(sizeof special_before_##name / sizeof special_before_##name[0] == \
		       sizeof special_suf_##name, "parallel arrays")

SPECIAL_LEXICON(health, SPECIAL_HEALTH);
SPECIAL_LEXICON(religion, SPECIAL_RELIGION);
SPECIAL_LEXICON_AFTER(political, SPECIAL_POLITICAL, SPECIAL_POLITICAL_AFTER);
SPECIAL_LEXICON(union, SPECIAL_UNION);
SPECIAL_LEXICON(ethnic, SPECIAL_ETHNIC);
SPECIAL_LEXICON(sexual, SPECIAL_SEXUAL);
SPECIAL_LEXICON(genetic, SPECIAL_GENETIC);
SPECIAL_LEXICON(biometric, SPECIAL_BIOMETRIC);
SPECIAL_LEXICON(criminal, SPECIAL_CRIMINAL);

/* Person context: pronouns and possessives (1st and 3rd person, and the
 * addressee's "Ihr"/"your"/"votre"), kinship and role nouns. Context only,
 * never triggers; they ride on the ICD-10 detector's row. English "son" is
 * left out: it is the French possessive "son" (its/his/her) as well.
 * Pass 1 does not look for them: the scanner looks in a term's sentence
 * when special_about_person() asks (lazyctx.h; they are a third of the
 * context hits on business text). */
#define PR(w) { w, DETECTOR_KW_WORD, SCAN_CONTEXT_PERSON_REF },
#define PRC(w) { w, DETECTOR_KW_WORD | DETECTOR_KW_CASE, SCAN_CONTEXT_PERSON_REF },
static const struct detector_keyword special_kw_person[] = {
	/* de */
	PR("ich") PR("mein") PR("meine") PR("meinen") PR("meinem") PR("meiner") PR("mir") PR("mich")
	PR("er") PR("ihm") PR("ihn") PR("seine") PR("seinen") PR("seinem") PR("seiner") PR("sie")
	PR("ihr") PR("ihre") PR("ihren") PR("ihrem") PR("ihrer") PR("Sohn") PR("Tochter")
	PR("Ehemann") PR("Ehefrau") PR("Vater") PR("Mutter") PR("Bruder") PR("Schwester")
	PR("Partnerin") PR("Partner")
	/* en */
	PRC("I") PR("me") PR("my") PR("mine") PR("myself") PR("he") PR("him") PR("his")
	PR("himself") PR("she") PR("her") PR("hers") PR("herself") PR("your")
	PR("daughter") PR("husband") PR("wife") PR("father") PR("mother") PR("brother")
	PR("sister") PR("patients") PR("employees") PR("candidate")
	/* fr */
	PR("je") PR("j'") PR("moi") PR("mon") PR("mes") PR("elle") PR("lui") PR("votre")
	PR("fils") PR("fille") PR("mari") PR("femme") PR("p\xc3\xa8re") PR("m\xc3\xa8re")
	PR("fr\xc3\xa8re") PR("s\xc5\x93ur") PR("candidat") PR("voisin") PR("voisine")
	/* es */
	PR("yo") PR("mi") PR("mis") PR("\xc3\xa9l") PR("\xc3\x89l") PR("ella") PR("hijo") PR("hija") PR("marido")
	PR("esposa") PR("padre") PR("madre") PR("hermano") PR("hermana") PR("candidato")
	PR("candidata") PR("primo") PR("prima") PR("vecino") PR("vecina") PR("jefe")
	/* Spanish and Italian drop the subject pronoun: first-person verbs */
	PR("tengo") PR("estoy") PR("soy") PR("sufro") PR("padezco") PR("tomo")
	/* it */
	PR("io") PR("mio") PR("mia") PR("miei") PR("mie") PR("lei") PR("figlio") PR("figlia")
	PR("marito") PR("moglie") PR("fratello") PR("sorella") PR("cugino") PR("cugina")
	PR("ho") PR("soffro") PR("prendo")
	{ NULL, 0, 0 }
};
#undef PR
#undef PRC

/* Sentence bounds around [start, end): '\n', or '.', '!', '?' before a
 * blank, but not the full stop of a short abbreviation ("Dr.", "Hr.",
 * "z.B."). At most SPECIAL_WINDOW bytes each way. */
#define SPECIAL_WINDOW 160

/* The bytes special_is_sentence_end() can accept: the walks below call
 * it only at those (one table load per byte instead of a call). */
static const uint8_t special_end_byte[256] = { ['\n'] = 1, ['.'] = 1, ['!'] = 1, ['?'] = 1 };

static int special_is_sentence_end(const char *s, size_t len, size_t i)
{
	char c = s[i];
	if (c == '\n')
		return 1;
	if (c != '.' && c != '!' && c != '?')
		return 0;
	if (i + 1 < len && s[i + 1] != ' ' && s[i + 1] != '\n')
		return 0;
	if (c != '.')
		return 1;
	size_t w = i;
	while (w > 0 && scan_is((unsigned char)s[w - 1], SCAN_BYTE_UPPER | SCAN_BYTE_LOWER))
		w--;
	/* "Dr." "Hr." "Prof." "Sra." "Mme." are not sentence ends */
	return !(i - w <= 4 && w < i && scan_is((unsigned char)s[w], SCAN_BYTE_UPPER));
}

/* (the person references last: pass 1 recorded the others, they are
 * looked for in the window when asked, scan.c scan_lazy_groups) */
static const uint8_t special_person_groups[] = {
	SCAN_CONTEXT_PERSON_TITLE, SCAN_CONTEXT_PERSON_LABEL, SCAN_CONTEXT_PATIENT,
	SCAN_CONTEXT_GIVEN_NAME, SCAN_CONTEXT_PERSON_REF,
};

static int special_about_person(const struct scan_input *in, size_t start, size_t end)
{
	const char *s = in->text;
	size_t len = in->len, a = start, b = end;
	while (a > 0 && start - a < SPECIAL_WINDOW &&
	       !(special_end_byte[(unsigned char)s[a - 1]] && special_is_sentence_end(s, len, a - 1)))
		a--;
	while (b < len && b - end < SPECIAL_WINDOW &&
	       !(special_end_byte[(unsigned char)s[b]] && special_is_sentence_end(s, len, b)))
		b++;
	for (size_t i = 0; i < sizeof special_person_groups; i++)
		if (scan_context_near(in, special_person_groups[i], start, end, start - a,
				      b > end ? b - end - 1 : 0))
			return 1;
	return 0;
}

/* Head nouns that make a term a modifier of a thing, not a property of a
 * person: "the fingerprint sensor", "genetic algorithm", "gay pride parade",
 * "Diabetes-Software", "SPD-Pressemitteilung". English puts the modifier
 * first; German joins it with a hyphen (closed compounds are already cut
 * off by the suffix limit). Checked on the word right after the term. */
static const char *const special_thing_heads[] = {
	/* en */
	"sensor", "sensors", "algorithm", "algorithms", "restaurant", "restaurants", "parade",
	"pride", "tour", "newsletter", "research", "budget", "software", "market", "markets",
	"statistics", "art", "temple", "temples", "architecture", "campaign", "conference",
	"study", "studies", "report", "department", "ward", "clinic", "centre", "center",
	"museum", "festival", "policy", "law", "laws", "legislation", "reform", "movement",
	"history", "programme", "program", "project", "awareness", "prevention", "app",
	"technology", "company", "industry", "scanner", "reader", "device", "library", "film",
	"movie", "book", "novel", "article", "press", "rates", "sales", "figures", "drugs",
	/* de (after a hyphen) */
	"Software", "Sensor", "Forschung", "Studie", "Station", "Abteilung", "Budget", "Markt",
	"Kunst", "Museum", "Gesetz", "Reform", "Bewegung", "Geschichte", "Artikel", "Film",
	"Buch", "Labor", "App", "Technik", "Technologie", "Projekt", "Kampagne", "Konferenz",
	"Tagung", "Pressemitteilung", "Statistik", "Manager", "Programm", "Zentrum",
	NULL
};

static int special_thing_head(const char *s, size_t len, size_t e)
{
	if (e + 1 >= len || (s[e] != ' ' && s[e] != '-'))
		return 0;
	size_t a = e + 1, b = a;
	while (b < len && scan_is((unsigned char)s[b], SCAN_BYTE_UPPER | SCAN_BYTE_LOWER | SCAN_BYTE_HIGH))
		b++;
	if (b == a)
		return 0;
	for (size_t i = 0; special_thing_heads[i]; i++)
		if (special_thing_heads[i][0] == s[a] && strlen(special_thing_heads[i]) == b - a &&
		    memcmp(special_thing_heads[i], s + a, b - a) == 0)
			return 1;
	return 0;
}

static int special_match(const struct scan_input *in, const struct scan_trigger *t,
			 struct policy_findings *out)
{
	const struct special_lexicon *lex = in->det->arg;
	const char *s = in->text;
	size_t len = in->len;
	uint8_t info = lex->suffix[t->keyword];
	size_t e = t->end, ts = t->start;
	/* a keyword after given bytes ("die " + "linke") starts with them */
	const char *before = lex->before ? lex->before[t->keyword] : NULL;
	if (before) {
		size_t bl = strlen(before);
		if (ts < bl || (ts > bl && scan_is((unsigned char)s[ts - bl - 1], SCAN_BYTE_WORD)))
			return 0;
		for (size_t i = 0; i < bl; i++) {
			unsigned c = (unsigned char)s[ts - bl + i];
			if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (unsigned char)before[i])
				return 0;
		}
		ts -= bl;
	}
	/* a stem that ends in a letter continues over word bytes; a phrase
	 * ending in a non-letter ("ver.di", "j'") is complete */
	while (e < len && scan_is((unsigned char)s[e], SCAN_BYTE_WORD) && e - t->end <= (info & SPECIAL_SUFFIX_MASK))
		e++;
	if (e - t->end > (info & SPECIAL_SUFFIX_MASK))
		return 0;
	/* short all-letter terms (SPD, HIV, CGT, GEW, UIL) count only in
	 * capitals, except the few that are ordinary lower-case words */
	if (t->end - ts <= 4 && e == t->end) {
		int lower = 0, letters = 0;
		for (size_t i = ts; i < t->end; i++) {
			unsigned char c = (unsigned char)s[i];
			letters += scan_is(c, SCAN_BYTE_UPPER | SCAN_BYTE_LOWER) ? 1 : 0;
			lower += scan_is(c, SCAN_BYTE_LOWER) ? 1 : 0;
		}
		static const char *const lower_ok[] = {
			"gay", "hiv", "haft", "jail", "juif", "sikh", "ateo", "atea", "asma", NULL
		};
		int okw = letters != (int)(t->end - ts) || lower != letters;
		for (size_t i = 0; !okw && lower_ok[i]; i++)
			if (strlen(lower_ok[i]) == t->end - ts && !strncasecmp(s + ts, lower_ok[i], t->end - ts))
				okw = 1;
		if (!okw)
			return 0;
	}
	if (special_thing_head(s, len, e))
		return 0;
	/* a compound reports the whole word: "Brustkrebs", not "krebs" */
	size_t start = ts;
	if (info & SPECIAL_COMPOUND)
		while (start > 0 && ts - start < 40 &&
		       scan_is((unsigned char)s[start - 1], SCAN_BYTE_UPPER | SCAN_BYTE_LOWER | SCAN_BYTE_HIGH))
			start--;
	if (!special_about_person(in, start, e))
		return 0;
	return scan_add_finding(out, in, start, e, 0);
}

/* ICD-10 codes (WHO ICD-10 / ICD-10-GM): letter A-Z without U (reserved),
 * two digits, optional ".d" or ".dd"; only next to "ICD" or a diagnosis
 * word, and only about a person. */
static int special_ci_find(const char *s, size_t a, size_t b, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = a; i + m <= b; i++)
		if (strncasecmp(s + i, needle, m) == 0)
			return 1;
	return 0;
}

static int special_match_icd10(const struct scan_input *in, const struct scan_trigger *t,
			       struct policy_findings *out)
{
	const char *s = in->text;
	size_t len = in->len, p = t->start;
	if (t->kind != SCAN_TRIGGER_SHAPE || t->end - p != 3)
		return 0;
	if (!(s[p] >= 'A' && s[p] <= 'Z') || s[p] == 'U' || !scan_is((unsigned char)s[p + 1], SCAN_BYTE_DIGIT) ||
	    !scan_is((unsigned char)s[p + 2], SCAN_BYTE_DIGIT))
		return 0;
	size_t e = t->end;
	if (e + 1 < len && s[e] == '.' && scan_is((unsigned char)s[e + 1], SCAN_BYTE_DIGIT)) {
		e += 2;
		if (e < len && scan_is((unsigned char)s[e], SCAN_BYTE_DIGIT))
			e++;
	}
	/* ICD-10-GM certainty suffixes: G (confirmed), V, Z, A; side L/R/B */
	if (e < len && (s[e] == 'G' || s[e] == 'V' || s[e] == 'Z') && !(e + 1 < len && scan_is((unsigned char)s[e + 1], SCAN_BYTE_WORD)))
		e++;
	if (e < len && scan_is((unsigned char)s[e], SCAN_BYTE_WORD))
		return 0;
	size_t a = p > 48 ? p - 48 : 0, b = e + 48 < len ? e + 48 : len;
	if (!special_ci_find(s, a, b, "icd") && !special_ci_find(s, a, b, "diagnos") &&
	    !special_ci_find(s, a, b, "befund"))
		return 0;
	if (!special_about_person(in, p, e))
		return 0;
	return scan_add_finding(out, in, p, e, 0);
}

#define R DATA_CLASS_RESTRICTED
const struct detector detect_special_table[] = {
	{ .id = "health", .entity = ENTITY_HEALTH, .data_class = R, .confidence = 70, .shapes = 0,
	  .keywords = special_kw_health, .match = special_match, .arg = &special_lex_health },
	{ .id = "health_icd10", .entity = ENTITY_HEALTH, .data_class = R, .confidence = 80, .shapes = SCAN_SHAPE_ALNUM,
	  .keywords = special_kw_person, .match = special_match_icd10, .arg = NULL },
	{ .id = "religion", .entity = ENTITY_RELIGION, .data_class = R, .confidence = 70, .shapes = 0,
	  .keywords = special_kw_religion, .match = special_match, .arg = &special_lex_religion },
	{ .id = "political_opinion", .entity = ENTITY_POLITICAL_OPINION, .data_class = R, .confidence = 70, .shapes = 0,
	  .keywords = special_kw_political, .match = special_match, .arg = &special_lex_political },
	{ .id = "trade_union", .entity = ENTITY_TRADE_UNION, .data_class = R, .confidence = 70, .shapes = 0,
	  .keywords = special_kw_union, .match = special_match, .arg = &special_lex_union },
	{ .id = "ethnic_origin", .entity = ENTITY_ETHNIC_ORIGIN, .data_class = R, .confidence = 70, .shapes = 0,
	  .keywords = special_kw_ethnic, .match = special_match, .arg = &special_lex_ethnic },
	{ .id = "sexual_orientation", .entity = ENTITY_SEXUAL_ORIENTATION, .data_class = R, .confidence = 70, .shapes = 0,
	  .keywords = special_kw_sexual, .match = special_match, .arg = &special_lex_sexual },
	{ .id = "genetic", .entity = ENTITY_GENETIC, .data_class = R, .confidence = 70, .shapes = 0,
	  .keywords = special_kw_genetic, .match = special_match, .arg = &special_lex_genetic },
	{ .id = "biometric", .entity = ENTITY_BIOMETRIC, .data_class = R, .confidence = 70, .shapes = 0,
	  .keywords = special_kw_biometric, .match = special_match, .arg = &special_lex_biometric },
	{ .id = "criminal", .entity = ENTITY_CRIMINAL, .data_class = R, .confidence = 70, .shapes = 0,
	  .keywords = special_kw_criminal, .match = special_match, .arg = &special_lex_criminal },
};
#undef R
const size_t detect_special_count = sizeof detect_special_table / sizeof detect_special_table[0];
