/* AI Act screening (aiact.h): Art. 5(1)(a)-(g) of Regulation (EU)
 * 2024/1689 and Annex III point 4, as a small explainable model.
 *
 * Text is cut into words (ASCII case-folded, Latin-1 accents folded: "é"
 * -> "e", "ß" -> "ss"; apostrophes and hyphens separate words). Each word
 * is looked up by its first four bytes in a hash of lexicon rows keyed by a
 * row's LAST word, so phrases of up to four words are matched looking back
 * over a small ring of the previous words: one pass, no allocation.
 *
 * A row names one feature. A practice is found when every feature of its
 * all_of set is present, at least one of its any_of set (when it has one),
 * and none of its none_of set (the lawful contexts that clear it). A negation word up to three words before an occurrence,
 * in the same sentence, keeps that occurrence from counting ("do not infer
 * emotions", "ohne ihre Einwilligung", "sans consentement").
 *
 * Known limits (docs/policies.md): words, not meaning; a lawful context
 * anywhere in the request clears the practice; other languages are not
 * covered. It is a screen in front of human oversight, not a classifier
 * of record. */
#include "policies/aiact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "policies/entity.h"

enum aiact_feature {
	AIACT_FEATURE_NEGATION, /* marks a word only; never a feature of a practice */
	AIACT_FEATURE_EMOTION,
	AIACT_FEATURE_BIOMETRIC,  /* face, voice, webcam, recording, photo (or a media part) */
	AIACT_FEATURE_WORKPLACE,  /* workers, applicants, students, classrooms */
	AIACT_FEATURE_MEDICAL,
	AIACT_FEATURE_SAFETY,
	AIACT_FEATURE_CATEGORISE,
	AIACT_FEATURE_SENSITIVE,  /* race, politics, union, religion, sex life, orientation */
	AIACT_FEATURE_OWN,        /* the person's own data */
	AIACT_FEATURE_MANIPULATE,
	AIACT_FEATURE_PEOPLE,     /* users, customers, players, voters */
	AIACT_FEATURE_VULNERABLE, /* age, disability, social or economic situation */
	AIACT_FEATURE_EXPLOIT,
	AIACT_FEATURE_DEFENSIVE,  /* detect, protect, avoid, accessible */
	AIACT_FEATURE_EXPLAIN,    /* explain, summarise, research, the law itself */
	AIACT_FEATURE_SCORE,
	AIACT_FEATURE_SOCIAL,     /* social behaviour, private life, lifestyle */
	AIACT_FEATURE_DETRIMENT,  /* deny, exclude, penalise */
	AIACT_FEATURE_PREDICT,
	AIACT_FEATURE_CRIME,
	AIACT_FEATURE_PROFILE,    /* personality, traits, origin, neighbourhood */
	AIACT_FEATURE_AGGREGATE,  /* statistics, aggregate, anonymised, blurred */
	AIACT_FEATURE_HUMAN_REVIEW, /* human review, objective and verifiable facts */
	AIACT_FEATURE_SCRAPE,
	AIACT_FEATURE_FACE,
	AIACT_FEATURE_SOURCE,     /* internet, social networks, CCTV */
	AIACT_FEATURE_FACEDB,     /* a face database, recognising people later */
	AIACT_FEATURE_CONSENT,
	AIACT_FEATURE_DECIDE,     /* rank, hire, fire, promote, shortlist */
	AIACT_FEATURE_PERSONNEL,  /* applicants, candidates, employees */
	AIACT_FEATURE_THING,      /* the decision is about things: laptops, suppliers */
	AIACT_FEATURE_LEGAL,      /* labour law, procedure */
	AIACT_FEATURE_COUNT
};

_Static_assert(AIACT_FEATURE_COUNT <= 64, "features are bits of a uint64_t");

static const char *const aiact_feature_names[AIACT_FEATURE_COUNT] = {
	[AIACT_FEATURE_NEGATION] = "negation",
	[AIACT_FEATURE_EMOTION] = "emotion",
	[AIACT_FEATURE_BIOMETRIC] = "biometric",
	[AIACT_FEATURE_WORKPLACE] = "workplace",
	[AIACT_FEATURE_MEDICAL] = "medical",
	[AIACT_FEATURE_SAFETY] = "safety",
	[AIACT_FEATURE_CATEGORISE] = "categorise",
	[AIACT_FEATURE_SENSITIVE] = "sensitive",
	[AIACT_FEATURE_OWN] = "own",
	[AIACT_FEATURE_MANIPULATE] = "manipulate",
	[AIACT_FEATURE_PEOPLE] = "people",
	[AIACT_FEATURE_VULNERABLE] = "vulnerable",
	[AIACT_FEATURE_EXPLOIT] = "exploit",
	[AIACT_FEATURE_DEFENSIVE] = "defensive",
	[AIACT_FEATURE_EXPLAIN] = "explain",
	[AIACT_FEATURE_SCORE] = "score",
	[AIACT_FEATURE_SOCIAL] = "social",
	[AIACT_FEATURE_DETRIMENT] = "detriment",
	[AIACT_FEATURE_PREDICT] = "predict",
	[AIACT_FEATURE_CRIME] = "crime",
	[AIACT_FEATURE_PROFILE] = "profile",
	[AIACT_FEATURE_AGGREGATE] = "aggregate",
	[AIACT_FEATURE_HUMAN_REVIEW] = "human_review",
	[AIACT_FEATURE_SCRAPE] = "scrape",
	[AIACT_FEATURE_FACE] = "face",
	[AIACT_FEATURE_SOURCE] = "source",
	[AIACT_FEATURE_FACEDB] = "face_db",
	[AIACT_FEATURE_CONSENT] = "consent",
	[AIACT_FEATURE_DECIDE] = "decide",
	[AIACT_FEATURE_PERSONNEL] = "personnel",
	[AIACT_FEATURE_THING] = "thing",
	[AIACT_FEATURE_LEGAL] = "legal",
};

#define B(f) (UINT64_C(1) << AIACT_FEATURE_##f)

/* The practices: all_of must be present, at least one of any_of (when not
 * 0), none of none_of; the finding is placed on the first occurrence of
 * anchor, or of the first any_of feature present when anchor is absent. */
struct aiact_rule {
	const char *rule_id;
	const char *article;
	unsigned entity;
	uint64_t all_of;
	uint64_t none_of;
	enum aiact_feature anchor;
	uint64_t any_of;
};

static const struct aiact_rule aiact_rules[AIACT_PRACTICE_COUNT] = {
	/* Art. 5(1)(a): subliminal, manipulative or deceptive techniques that
	 * distort the behaviour of persons. */
	[AIACT_PRACTICE_5_1_A] = { "aiact-5-1-a", "AI Act Art. 5(1)(a)", ENTITY_AIACT_5_1_A,
		B(MANIPULATE) | B(PEOPLE),
		B(DEFENSIVE) | B(EXPLAIN), AIACT_FEATURE_MANIPULATE, 0 },
	/* Art. 5(1)(b): exploiting vulnerabilities due to age, disability or a
	 * specific social or economic situation. */
	[AIACT_PRACTICE_5_1_B] = { "aiact-5-1-b", "AI Act Art. 5(1)(b)", ENTITY_AIACT_5_1_B,
		B(VULNERABLE),
		B(DEFENSIVE) | B(EXPLAIN), AIACT_FEATURE_EXPLOIT, B(EXPLOIT) | B(MANIPULATE) },
	/* Art. 5(1)(c): scoring persons on social behaviour or personal
	 * characteristics leading to detrimental treatment. */
	[AIACT_PRACTICE_5_1_C] = { "aiact-5-1-c", "AI Act Art. 5(1)(c)", ENTITY_AIACT_5_1_C,
		B(SCORE) | B(SOCIAL) | B(DETRIMENT),
		B(EXPLAIN), AIACT_FEATURE_SCORE, 0 },
	/* Art. 5(1)(d): risk of a criminal offence predicted solely from
	 * profiling or personality traits; not the support of a human
	 * assessment based on objective and verifiable facts. */
	[AIACT_PRACTICE_5_1_D] = { "aiact-5-1-d", "AI Act Art. 5(1)(d)", ENTITY_AIACT_5_1_D,
		B(PREDICT) | B(CRIME) | B(PROFILE),
		B(AGGREGATE) | B(HUMAN_REVIEW) | B(EXPLAIN), AIACT_FEATURE_PREDICT, 0 },
	/* Art. 5(1)(e): untargeted scraping of facial images from the internet
	 * or CCTV footage to build facial recognition databases. */
	[AIACT_PRACTICE_5_1_E] = { "aiact-5-1-e", "AI Act Art. 5(1)(e)", ENTITY_AIACT_5_1_E,
		B(SCRAPE) | B(FACE),
		B(CONSENT) | B(OWN) | B(AGGREGATE) | B(EXPLAIN), AIACT_FEATURE_SCRAPE, B(SOURCE) | B(FACEDB) },
	/* Art. 5(1)(f): emotions of natural persons in the workplace or in
	 * education inferred from biometric data, except for medical or safety
	 * reasons. */
	[AIACT_PRACTICE_5_1_F] = { "aiact-5-1-f", "AI Act Art. 5(1)(f)", ENTITY_AIACT_5_1_F,
		B(EMOTION) | B(BIOMETRIC) | B(WORKPLACE),
		B(MEDICAL) | B(SAFETY), AIACT_FEATURE_EMOTION, 0 },
	/* Art. 5(1)(g): biometric categorisation to deduce race, political
	 * opinions, trade union membership, religious or philosophical beliefs,
	 * sex life or sexual orientation. */
	[AIACT_PRACTICE_5_1_G] = { "aiact-5-1-g", "AI Act Art. 5(1)(g)", ENTITY_AIACT_5_1_G,
		B(CATEGORISE) | B(BIOMETRIC) | B(SENSITIVE),
		B(OWN), AIACT_FEATURE_SENSITIVE, 0 },
	/* Annex III point 4: recruitment, selection, promotion, termination,
	 * task allocation on individual behaviour or traits (high-risk). */
	[AIACT_PRACTICE_ANNEX3_4] = { "aiact-annex3-4", "AI Act Art. 6(2), Annex III point 4",
		ENTITY_AIACT_ANNEX3_4,
		B(DECIDE) | B(PERSONNEL),
		B(THING) | B(LEGAL) | B(EXPLAIN) | B(OWN), AIACT_FEATURE_DECIDE, 0 },
};

/* ---- lexicons ----
 * One row: a feature and up to four words separated by spaces, written as
 * they appear (accents are folded when the model is built). A word ending
 * in '*' is a prefix of at least four letters (a stem); any other word must
 * match exactly. Rows are grouped by feature, languages in the order EN, DE,
 * FR, ES, IT. */
struct aiact_row {
	enum aiact_feature feature;
	const char *words;
};

#define R(f, w) { AIACT_FEATURE_##f, w }

static const struct aiact_row aiact_rows[] = {
	/* negation */
	R(NEGATION, "not"), R(NEGATION, "t"), R(NEGATION, "never"), R(NEGATION, "no"),
	R(NEGATION, "without"), R(NEGATION, "nor"),
	R(NEGATION, "nicht"), R(NEGATION, "kein*"), R(NEGATION, "ohne"), R(NEGATION, "nie"),
	R(NEGATION, "niemals"),
	R(NEGATION, "ne"), R(NEGATION, "n"), R(NEGATION, "pas"), R(NEGATION, "sans"),
	R(NEGATION, "jamais"), R(NEGATION, "aucun*"),
	R(NEGATION, "sin"), R(NEGATION, "nunca"), R(NEGATION, "ningún"), R(NEGATION, "ninguna"),
	R(NEGATION, "non"), R(NEGATION, "senza"), R(NEGATION, "mai"), R(NEGATION, "nessun*"),

	/* emotion */
	R(EMOTION, "emotion*"), R(EMOTION, "mood*"), R(EMOTION, "stress*"), R(EMOTION, "feeling*"),
	R(EMOTION, "frustr*"), R(EMOTION, "angry"), R(EMOTION, "anger"), R(EMOTION, "anxi*"),
	R(EMOTION, "bored"), R(EMOTION, "boredom"), R(EMOTION, "happy"), R(EMOTION, "happiness"),
	R(EMOTION, "sad"), R(EMOTION, "sadness"), R(EMOTION, "nervous"), R(EMOTION, "upset"),
	R(EMOTION, "annoyed"), R(EMOTION, "state of mind"), R(EMOTION, "demotivat*"),
	R(EMOTION, "unmotivat*"), R(EMOTION, "sentiment*"), R(EMOTION, "smil*"), R(EMOTION, "fear*"),
	R(EMOTION, "enthusias*"), R(EMOTION, "engagement"), R(EMOTION, "motivation"), R(EMOTION, "unhappy"), R(EMOTION, "begeistert"), R(EMOTION, "irrita*"), R(EMOTION, "irrité*"), R(EMOTION, "contento*"), R(EMOTION, "contente*"), R(EMOTION, "fed up"), R(EMOTION, "tears"), R(EMOTION, "tränen"), R(EMOTION, "larmes"), R(EMOTION, "lágrimas"), R(EMOTION, "lacrime"), R(EMOTION, "irritat*"), R(EMOTION, "unzufrieden*"), R(EMOTION, "gereizt"), R(EMOTION, "mécontent*"), R(EMOTION, "descontent*"), R(EMOTION, "scontent*"), R(EMOTION, "infelic*"),
	R(EMOTION, "gefühl*"), R(EMOTION, "stimmung*"), R(EMOTION, "gestresst"), R(EMOTION, "genervt"),
	R(EMOTION, "wütend"), R(EMOTION, "wut"), R(EMOTION, "ärger*"), R(EMOTION, "verärgert"),
	R(EMOTION, "traurig*"), R(EMOTION, "glücklich*"), R(EMOTION, "angst*"), R(EMOTION, "gelangweilt"),
	R(EMOTION, "langeweile"), R(EMOTION, "nervös"), R(EMOTION, "gemütszustand*"), R(EMOTION, "laune"),
	R(EMOTION, "motiviert"), R(EMOTION, "lächel*"), R(EMOTION, "zufrieden*"), R(EMOTION, "gefühlslage"),
	R(EMOTION, "émotion*"), R(EMOTION, "humeur*"), R(EMOTION, "colère"), R(EMOTION, "trist*"),
	R(EMOTION, "ennui*"), R(EMOTION, "ennuy*"), R(EMOTION, "angoiss*"), R(EMOTION, "énervé*"),
	R(EMOTION, "heureu*"), R(EMOTION, "joie"), R(EMOTION, "peur"), R(EMOTION, "démotiv*"),
	R(EMOTION, "sourire*"), R(EMOTION, "souri*"), R(EMOTION, "nerveu*"), R(EMOTION, "motivé*"),
	R(EMOTION, "emocion*"), R(EMOTION, "ánimo"), R(EMOTION, "estrés"), R(EMOTION, "estresad*"),
	R(EMOTION, "enfad*"), R(EMOTION, "aburrid*"), R(EMOTION, "ansios*"), R(EMOTION, "ansiedad"),
	R(EMOTION, "nervios*"), R(EMOTION, "desmotiv*"), R(EMOTION, "felicidad"), R(EMOTION, "feliz"),
	R(EMOTION, "miedo"), R(EMOTION, "ira"), R(EMOTION, "sonri*"), R(EMOTION, "motivad*"),
	R(EMOTION, "emozion*"), R(EMOTION, "emotiv*"), R(EMOTION, "umore"), R(EMOTION, "arrabbiat*"),
	R(EMOTION, "rabbia"), R(EMOTION, "annoiat*"), R(EMOTION, "noia"), R(EMOTION, "ansia"),
	R(EMOTION, "nervos*"), R(EMOTION, "demotiv*"), R(EMOTION, "felic*"), R(EMOTION, "paura"),
	R(EMOTION, "sorrid*"), R(EMOTION, "sorris*"), R(EMOTION, "motivat*"),

	/* biometric modality named in the text */
	R(BIOMETRIC, "face"), R(BIOMETRIC, "faces"), R(BIOMETRIC, "facial*"), R(BIOMETRIC, "webcam*"),
	R(BIOMETRIC, "camera*"), R(BIOMETRIC, "video*"), R(BIOMETRIC, "voice*"), R(BIOMETRIC, "audio*"),
	R(BIOMETRIC, "recording*"), R(BIOMETRIC, "recorded"), R(BIOMETRIC, "photo*"),
	R(BIOMETRIC, "image"), R(BIOMETRIC, "images"), R(BIOMETRIC, "picture*"), R(BIOMETRIC, "selfie*"),
	R(BIOMETRIC, "footage"), R(BIOMETRIC, "heart rate"), R(BIOMETRIC, "biometr*"),
	R(BIOMETRIC, "body language"), R(BIOMETRIC, "gesture*"), R(BIOMETRIC, "posture*"),
	R(BIOMETRIC, "keystroke*"), R(BIOMETRIC, "eye tracking"), R(BIOMETRIC, "listen*"),
	R(BIOMETRIC, "frames"), R(BIOMETRIC, "expressions"),
	R(BIOMETRIC, "gesicht*"), R(BIOMETRIC, "mimik"), R(BIOMETRIC, "stimme*"), R(BIOMETRIC, "stimmlage"),
	R(BIOMETRIC, "tonfall"), R(BIOMETRIC, "kamera*"), R(BIOMETRIC, "aufnahme*"), R(BIOMETRIC, "aufzeichnung*"),
	R(BIOMETRIC, "foto*"), R(BIOMETRIC, "bild"), R(BIOMETRIC, "bilder"), R(BIOMETRIC, "bildern"),
	R(BIOMETRIC, "sprachaufnahme*"), R(BIOMETRIC, "körpersprache"), R(BIOMETRIC, "herzfrequenz"),
	R(BIOMETRIC, "mitschnitt*"), R(BIOMETRIC, "anhören"), R(BIOMETRIC, "gesichtsausdr*"),
	R(BIOMETRIC, "visage*"), R(BIOMETRIC, "voix"), R(BIOMETRIC, "caméra*"), R(BIOMETRIC, "vidéo*"),
	R(BIOMETRIC, "enregistr*"), R(BIOMETRIC, "mimique*"), R(BIOMETRIC, "écoute*"),
	R(BIOMETRIC, "langage corporel"),
	R(BIOMETRIC, "cara"), R(BIOMETRIC, "caras"), R(BIOMETRIC, "rostro*"), R(BIOMETRIC, "voz"),
	R(BIOMETRIC, "voces"), R(BIOMETRIC, "cámara*"), R(BIOMETRIC, "grabación"), R(BIOMETRIC, "grabacion*"),
	R(BIOMETRIC, "grabad*"), R(BIOMETRIC, "imagen"), R(BIOMETRIC, "imágenes"), R(BIOMETRIC, "escuch*"),
	R(BIOMETRIC, "lenguaje corporal"), R(BIOMETRIC, "gesto*"),
	R(BIOMETRIC, "volto"), R(BIOMETRIC, "volti"), R(BIOMETRIC, "viso"), R(BIOMETRIC, "visi"),
	R(BIOMETRIC, "facciale"), R(BIOMETRIC, "facciali"), R(BIOMETRIC, "voce"), R(BIOMETRIC, "voci"),
	R(BIOMETRIC, "telecamer*"), R(BIOMETRIC, "videocamer*"), R(BIOMETRIC, "registrazion*"),
	R(BIOMETRIC, "registrat*"), R(BIOMETRIC, "immagin*"), R(BIOMETRIC, "ascolt*"),
	R(BIOMETRIC, "espressioni"), R(BIOMETRIC, "linguaggio del corpo"),

	/* workers, applicants, students (Art. 5(1)(f) "workplace and education") */
	R(WORKPLACE, "employee*"), R(WORKPLACE, "worker*"), R(WORKPLACE, "staff*"), R(WORKPLACE, "agent"),
	R(WORKPLACE, "agents"), R(WORKPLACE, "colleague*"), R(WORKPLACE, "team"), R(WORKPLACE, "teams"),
	R(WORKPLACE, "workforce"), R(WORKPLACE, "personnel"), R(WORKPLACE, "operator*"),
	R(WORKPLACE, "student*"), R(WORKPLACE, "pupil*"), R(WORKPLACE, "learner*"),
	R(WORKPLACE, "classroom*"), R(WORKPLACE, "lecture*"), R(WORKPLACE, "exam"), R(WORKPLACE, "exams"),
	R(WORKPLACE, "school*"), R(WORKPLACE, "teacher*"), R(WORKPLACE, "trainee*"),
	R(WORKPLACE, "apprentice*"), R(WORKPLACE, "intern"), R(WORKPLACE, "interns"),
	R(WORKPLACE, "applicant*"), R(WORKPLACE, "candidate*"), R(WORKPLACE, "job interview*"),
	R(WORKPLACE, "shift"), R(WORKPLACE, "at work"), R(WORKPLACE, "office"), R(WORKPLACE, "cashier*"),
	R(WORKPLACE, "nurses"), R(WORKPLACE, "drivers"), R(WORKPLACE, "courier*"),
	R(WORKPLACE, "mitarbeit*"), R(WORKPLACE, "vertrieb*"), R(WORKPLACE, "beschäftigt*"), R(WORKPLACE, "angestellt*"),
	R(WORKPLACE, "arbeitnehmer*"), R(WORKPLACE, "belegschaft*"), R(WORKPLACE, "personal"),
	R(WORKPLACE, "kolleg*"), R(WORKPLACE, "team*"), R(WORKPLACE, "callcenter*"), R(WORKPLACE, "schüler*"),
	R(WORKPLACE, "studierend*"), R(WORKPLACE, "studenten"), R(WORKPLACE, "klassenzimmer*"),
	R(WORKPLACE, "klasse"), R(WORKPLACE, "unterricht*"), R(WORKPLACE, "prüfung*"),
	R(WORKPLACE, "vorlesung*"), R(WORKPLACE, "lehrer*"), R(WORKPLACE, "azubi*"),
	R(WORKPLACE, "auszubildend*"), R(WORKPLACE, "bewerber*"), R(WORKPLACE, "kandidat*"),
	R(WORKPLACE, "vorstellungsgespräch*"), R(WORKPLACE, "großraumbüro*"), R(WORKPLACE, "büro"),
	R(WORKPLACE, "arbeitsplatz*"), R(WORKPLACE, "schicht*"), R(WORKPLACE, "fahrer"),
	R(WORKPLACE, "employé*"), R(WORKPLACE, "salarié*"), R(WORKPLACE, "collaborat*"),
	R(WORKPLACE, "équipe*"), R(WORKPLACE, "collègue*"), R(WORKPLACE, "élève*"),
	R(WORKPLACE, "étudiant*"), R(WORKPLACE, "classe"), R(WORKPLACE, "enseignant*"),
	R(WORKPLACE, "professeur*"), R(WORKPLACE, "candidat*"), R(WORKPLACE, "stagiaire*"),
	R(WORKPLACE, "apprenti*"), R(WORKPLACE, "ouvrier*"), R(WORKPLACE, "travailleu*"),
	R(WORKPLACE, "opérat*"), R(WORKPLACE, "conseiller*"), R(WORKPLACE, "téléconseill*"),
	R(WORKPLACE, "caissi*"), R(WORKPLACE, "contrôle"), R(WORKPLACE, "bureau"), R(WORKPLACE, "livreur*"),
	R(WORKPLACE, "emplead*"), R(WORKPLACE, "teletrabajador*"), R(WORKPLACE, "remote workers"), R(WORKPLACE, "homeoffice"), R(WORKPLACE, "télétravailleu*"), R(WORKPLACE, "telelavorator*"), R(WORKPLACE, "trabajador*"), R(WORKPLACE, "plantilla"),
	R(WORKPLACE, "teleoperador*"), R(WORKPLACE, "agente*"), R(WORKPLACE, "compañer*"),
	R(WORKPLACE, "equipo"), R(WORKPLACE, "alumn*"), R(WORKPLACE, "estudiant*"), R(WORKPLACE, "clase"),
	R(WORKPLACE, "aula"), R(WORKPLACE, "examen*"), R(WORKPLACE, "profesor*"), R(WORKPLACE, "docente*"),
	R(WORKPLACE, "aspirante*"), R(WORKPLACE, "becari*"), R(WORKPLACE, "oficina"), R(WORKPLACE, "turno"),
	R(WORKPLACE, "cajer*"), R(WORKPLACE, "repartidor*"), R(WORKPLACE, "conductores"),
	R(WORKPLACE, "dipendent*"), R(WORKPLACE, "lavorator*"), R(WORKPLACE, "personale"),
	R(WORKPLACE, "collega"), R(WORKPLACE, "colleghi"), R(WORKPLACE, "impiegat*"),
	R(WORKPLACE, "squadra"), R(WORKPLACE, "alunn*"), R(WORKPLACE, "scolar*"),
	R(WORKPLACE, "lezion*"), R(WORKPLACE, "interrogazion*"), R(WORKPLACE, "esam*"),
	R(WORKPLACE, "insegnant*"), R(WORKPLACE, "docent*"), R(WORKPLACE, "stagist*"),
	R(WORKPLACE, "turni"), R(WORKPLACE, "ufficio"), R(WORKPLACE, "cassier*"), R(WORKPLACE, "operai*"),
	R(WORKPLACE, "studenti"), R(WORKPLACE, "autisti"),

	/* medical reasons (Art. 5(1)(f) exception) */
	R(MEDICAL, "medic*"), R(MEDICAL, "clinic*"), R(MEDICAL, "patient*"), R(MEDICAL, "therap*"),
	R(MEDICAL, "diagnos*"), R(MEDICAL, "doctor*"), R(MEDICAL, "physician*"), R(MEDICAL, "hospital*"),
	R(MEDICAL, "psychiatr*"),
	R(MEDICAL, "medizin*"), R(MEDICAL, "arzt*"), R(MEDICAL, "ärzt*"), R(MEDICAL, "klinik*"),
	R(MEDICAL, "klinisch*"), R(MEDICAL, "psychotherap*"), R(MEDICAL, "krankenhaus*"),
	R(MEDICAL, "médic*"), R(MEDICAL, "médecin*"), R(MEDICAL, "clinique*"), R(MEDICAL, "thérap*"),
	R(MEDICAL, "hôpita*"),
	R(MEDICAL, "médico*"), R(MEDICAL, "clínic*"), R(MEDICAL, "paciente*"), R(MEDICAL, "terap*"),
	R(MEDICAL, "pazient*"), R(MEDICAL, "ospedal*"),

	/* safety reasons (Art. 5(1)(f) exception) */
	R(SAFETY, "safety"), R(SAFETY, "fatigue"), R(SAFETY, "drows*"), R(SAFETY, "asleep"),
	R(SAFETY, "microsleep*"), R(SAFETY, "hazard*"), R(SAFETY, "accident*"),
	R(SAFETY, "sicherheit*"), R(SAFETY, "arbeitsschutz*"), R(SAFETY, "müdigkeit"), R(SAFETY, "müde"),
	R(SAFETY, "sekundenschlaf*"), R(SAFETY, "einschlaf*"), R(SAFETY, "unfall*"), R(SAFETY, "unfäll*"),
	R(SAFETY, "sécurité"), R(SAFETY, "somnolen*"), R(SAFETY, "endorm*"), R(SAFETY, "hypovigilance"),
	R(SAFETY, "seguridad"), R(SAFETY, "fatiga*"), R(SAFETY, "dormid*"), R(SAFETY, "accidente*"),
	R(SAFETY, "sicurezza"), R(SAFETY, "affaticament*"), R(SAFETY, "sonnolen*"), R(SAFETY, "sonno"),
	R(SAFETY, "incident*"),

	/* categorising a person */
	R(CATEGORISE, "classif*"), R(CATEGORISE, "categori*"), R(CATEGORISE, "infer*"), R(CATEGORISE, "dedu*"),
	R(CATEGORISE, "determin*"), R(CATEGORISE, "guess*"), R(CATEGORISE, "identif*"),
	R(CATEGORISE, "tell me which"), R(CATEGORISE, "which ones"), R(CATEGORISE, "which of"),
	R(CATEGORISE, "label*"), R(CATEGORISE, "tag"), R(CATEGORISE, "sort"), R(CATEGORISE, "estimate*"),
	R(CATEGORISE, "detect*"), R(CATEGORISE, "predict*"), R(CATEGORISE, "group them"), R(CATEGORISE, "group*"), R(CATEGORISE, "work out"), R(CATEGORISE, "sépare*"), R(CATEGORISE, "separa*"), R(CATEGORISE, "ont l air"), R(CATEGORISE, "who looks"), R(CATEGORISE, "who look"), R(CATEGORISE, "stabilis*"), R(CATEGORISE, "establece"), R(CATEGORISE, "parecen"), R(CATEGORISE, "sembrano"), R(CATEGORISE, "wahrscheinlich*"), R(CATEGORISE, "vermutlich"), R(CATEGORISE, "likely"), R(CATEGORISE, "tell me who"), R(CATEGORISE, "sag mir"), R(CATEGORISE, "indique qui"), R(CATEGORISE, "marca a"), R(CATEGORISE, "marca los"), R(CATEGORISE, "marca las"), R(CATEGORISE, "creas que"), R(CATEGORISE, "crees que"), R(CATEGORISE, "indica quién"), R(CATEGORISE, "secondo te"), R(CATEGORISE, "indica chi"), R(CATEGORISE, "find out"), R(CATEGORISE, "figure out"), R(CATEGORISE, "herausfind*"), R(CATEGORISE, "finde"), R(CATEGORISE, "averigu*"), R(CATEGORISE, "scopri"), R(CATEGORISE, "capisci"), R(CATEGORISE, "probab*"), R(CATEGORISE, "kennzeichn*"), R(CATEGORISE, "markier*"), R(CATEGORISE, "vermut*"), R(CATEGORISE, "gruppier*"), R(CATEGORISE, "trie"), R(CATEGORISE, "trier"), R(CATEGORISE, "étiquet*"), R(CATEGORISE, "regroup*"), R(CATEGORISE, "agrup*"), R(CATEGORISE, "etichett*"), R(CATEGORISE, "raggrupp*"),
	R(CATEGORISE, "klassifizier*"), R(CATEGORISE, "kategorisier*"), R(CATEGORISE, "einordn*"),
	R(CATEGORISE, "ordne"), R(CATEGORISE, "ordnen"), R(CATEGORISE, "zuordn*"), R(CATEGORISE, "bestimm*"),
	R(CATEGORISE, "ableit*"), R(CATEGORISE, "leite"), R(CATEGORISE, "erkenn*"), R(CATEGORISE, "einschätz*"),
	R(CATEGORISE, "schätz*"), R(CATEGORISE, "sortier*"), R(CATEGORISE, "einstuf*"), R(CATEGORISE, "welche"),
	R(CATEGORISE, "classe"), R(CATEGORISE, "classer"), R(CATEGORISE, "devin*"), R(CATEGORISE, "lesquel*"),
	R(CATEGORISE, "estim*"), R(CATEGORISE, "reconna*"), R(CATEGORISE, "détermin*"), R(CATEGORISE, "détect*"),
	R(CATEGORISE, "clasific*"), R(CATEGORISE, "categoriz*"), R(CATEGORISE, "infier*"),
	R(CATEGORISE, "adivin*"), R(CATEGORISE, "cuáles"), R(CATEGORISE, "quiénes"), R(CATEGORISE, "reconoc*"),
	R(CATEGORISE, "detecta*"),
	R(CATEGORISE, "categorizz*"), R(CATEGORISE, "indovin*"), R(CATEGORISE, "quali"), R(CATEGORISE, "riconosc*"),
	R(CATEGORISE, "rileva*"), R(CATEGORISE, "stima"),

	/* Art. 5(1)(g) categories */
	R(SENSITIVE, "race"), R(SENSITIVE, "races"), R(SENSITIVE, "racial*"), R(SENSITIVE, "ethni*"),
	R(SENSITIVE, "religi*"), R(SENSITIVE, "muslim*"), R(SENSITIVE, "jewish"), R(SENSITIVE, "christian*"),
	R(SENSITIVE, "catholic*"), R(SENSITIVE, "atheist*"), R(SENSITIVE, "politi*"), R(SENSITIVE, "left wing"),
	R(SENSITIVE, "union*"), R(SENSITIVE, "gay"), R(SENSITIVE, "gays"), R(SENSITIVE, "lesbian*"),
	R(SENSITIVE, "homosex*"), R(SENSITIVE, "bisex*"), R(SENSITIVE, "sexu*"), R(SENSITIVE, "sex life"),
	R(SENSITIVE, "transgender"), R(SENSITIVE, "queer"), R(SENSITIVE, "faith"), R(SENSITIVE, "beliefs"), R(SENSITIVE, "arab*"), R(SENSITIVE, "asian*"), R(SENSITIVE, "african*"), R(SENSITIVE, "latino*"), R(SENSITIVE, "hispanic*"), R(SENSITIVE, "asiati*"), R(SENSITIVE, "afrikanisch*"), R(SENSITIVE, "africain*"), R(SENSITIVE, "árabe*"), R(SENSITIVE, "africano*"), R(SENSITIVE, "vote for"), R(SENSITIVE, "votes for"), R(SENSITIVE, "wählt"), R(SENSITIVE, "afd"), R(SENSITIVE, "grüne"), R(SENSITIVE, "grünen"), R(SENSITIVE, "conservative*"), R(SENSITIVE, "labour voter"), R(SENSITIVE, "party affiliation"),
	R(SENSITIVE, "rasse"), R(SENSITIVE, "herkunft"), R(SENSITIVE, "glaube*"), R(SENSITIVE, "gewerkschaft*"),
	R(SENSITIVE, "schwul*"), R(SENSITIVE, "lesbisch*"), R(SENSITIVE, "jüdisch*"), R(SENSITIVE, "weltanschauung*"),
	R(SENSITIVE, "raciale*"), R(SENSITIVE, "syndi*"), R(SENSITIVE, "croyance*"), R(SENSITIVE, "musulman*"),
	R(SENSITIVE, "juif*"), R(SENSITIVE, "juive*"), R(SENSITIVE, "origine ethnique"),
	R(SENSITIVE, "raza*"), R(SENSITIVE, "etni*"), R(SENSITIVE, "sindica*"), R(SENSITIVE, "creencia*"),
	R(SENSITIVE, "judí*"), R(SENSITIVE, "razza*"), R(SENSITIVE, "razzial*"), R(SENSITIVE, "sindacal*"),
	R(SENSITIVE, "sindacat*"), R(SENSITIVE, "omosess*"), R(SENSITIVE, "sessual*"), R(SENSITIVE, "ebre*"),
	R(SENSITIVE, "convinzioni religiose"),

	/* the person's own data */
	R(OWN, "my own"), R(OWN, "our own"), R(OWN, "of me"), R(OWN, "myself"), R(OWN, "my face"),
	R(OWN, "my voice"), R(OWN, "my photo*"), R(OWN, "my selfie*"), R(OWN, "should i"),
	R(OWN, "eigene*"), R(OWN, "von mir"), R(OWN, "mein gesicht"), R(OWN, "meine stimme"),
	R(OWN, "mein foto"), R(OWN, "soll ich"),
	R(OWN, "moi même"), R(OWN, "de moi"), R(OWN, "mon propre"), R(OWN, "notre propre"),
	R(OWN, "nos propres"), R(OWN, "mon visage"), R(OWN, "ma voix"), R(OWN, "ma photo"), R(OWN, "dois je"),
	R(OWN, "mía"), R(OWN, "mi propia"), R(OWN, "mi propio"), R(OWN, "nuestra propia"),
	R(OWN, "nuestro propio"), R(OWN, "mi cara"), R(OWN, "mi voz"), R(OWN, "debo"),
	R(OWN, "mia foto"), R(OWN, "mio viso"), R(OWN, "mia voce"), R(OWN, "nostro negozio"),
	R(OWN, "me stesso"), R(OWN, "me stessa"), R(OWN, "devo"), R(OWN, "posso"),

	/* manipulative, deceptive, subliminal techniques */
	R(MANIPULATE, "manipul*"), R(MANIPULATE, "sublimin*"), R(MANIPULATE, "decepti*"),
	R(MANIPULATE, "deceiv*"), R(MANIPULATE, "trick*"), R(MANIPULATE, "dark pattern*"),
	R(MANIPULATE, "misleading"), R(MANIPULATE, "mislead"), R(MANIPULATE, "false urgency"),
	R(MANIPULATE, "fake urgency"), R(MANIPULATE, "fake countdown*"), R(MANIPULATE, "fake scarcity"),
	R(MANIPULATE, "covert*"), R(MANIPULATE, "without realising"), R(MANIPULATE, "without realizing"),
	R(MANIPULATE, "without noticing"), R(MANIPULATE, "without them noticing"),
	R(MANIPULATE, "without their knowledge"), R(MANIPULATE, "hidden cue"), R(MANIPULATE, "hidden cues"),
	R(MANIPULATE, "hidden message*"), R(MANIPULATE, "guilt tripping"), R(MANIPULATE, "confirmshaming"),
	R(MANIPULATE, "brainwash*"), R(MANIPULATE, "psychological pressure"), R(MANIPULATE, "lie to"),
	R(MANIPULATE, "make them believe"), R(MANIPULATE, "trick them"), R(MANIPULATE, "deceit*"), R(MANIPULATE, "guilt"), R(MANIPULATE, "before thinking"), R(MANIPULATE, "before they think"), R(MANIPULATE, "einred*"), R(MANIPULATE, "faux"), R(MANIPULATE, "fausse"), R(MANIPULATE, "fausses"), R(MANIPULATE, "not true"), R(MANIPULATE, "isn t true"), R(MANIPULATE, "no sea cierto"), R(MANIPULATE, "no es cierto"), R(MANIPULATE, "non è vero"), R(MANIPULATE, "pas vrai"), R(MANIPULATE, "nicht stimmt"), R(MANIPULATE, "senza volerlo"), R(MANIPULATE, "sin quererlo"), R(MANIPULATE, "without meaning to"), R(MANIPULATE, "ohne es zu wollen"), R(MANIPULATE, "sans le vouloir"), R(MANIPULATE, "ohne wissen"), R(MANIPULATE, "without their parents"), R(MANIPULATE, "sans que les parents"), R(MANIPULATE, "sin que sus padres"), R(MANIPULATE, "senza che i genitori"), R(MANIPULATE, "laissant croire"), R(MANIPULATE, "laisser croire"), R(MANIPULATE, "hacerse pasar"), R(MANIPULATE, "haciéndose pasar"), R(MANIPULATE, "se faire passer"), R(MANIPULATE, "pretend to be"), R(MANIPULATE, "fingendosi"), R(MANIPULATE, "fake*"), R(MANIPULATE, "pretend"), R(MANIPULATE, "pretending"), R(MANIPULATE, "invent"), R(MANIPULATE, "invented"), R(MANIPULATE, "inventing"), R(MANIPULATE, "made up"), R(MANIPULATE, "fabricat*"), R(MANIPULATE, "so they panic"), R(MANIPULATE, "scare them"), R(MANIPULATE, "frighten them"), R(MANIPULATE, "countdown*"), R(MANIPULATE, "erfunden*"), R(MANIPULATE, "gefälscht*"), R(MANIPULATE, "verleit*"), R(MANIPULATE, "angst machen"), R(MANIPULATE, "inventant"), R(MANIPULATE, "inventer"), R(MANIPULATE, "invente"), R(MANIPULATE, "fait peur"), R(MANIPULATE, "faire peur"), R(MANIPULATE, "faux avis"), R(MANIPULATE, "compte à rebours"), R(MANIPULATE, "chrono"), R(MANIPULATE, "inventen"), R(MANIPULATE, "inventar"), R(MANIPULATE, "reseñas falsas"), R(MANIPULATE, "cuenta atrás"), R(MANIPULATE, "asustar"), R(MANIPULATE, "inventare"), R(MANIPULATE, "inventa"), R(MANIPULATE, "recensioni false"), R(MANIPULATE, "conto alla rovescia"), R(MANIPULATE, "spavent*"), R(MANIPULATE, "hide the"), R(MANIPULATE, "hides the"), R(MANIPULATE, "hidden"), R(MANIPULATE, "without understanding"), R(MANIPULATE, "without them knowing"), R(MANIPULATE, "versteckt*"), R(MANIPULATE, "cach*"), R(MANIPULATE, "ocult*"), R(MANIPULATE, "nascost*"),
	R(MANIPULATE, "unterschwellig*"), R(MANIPULATE, "täuschung*"), R(MANIPULATE, "täuschend*"),
	R(MANIPULATE, "täusch"), R(MANIPULATE, "täuschen"), R(MANIPULATE, "irreführ*"), R(MANIPULATE, "unbewusst*"),
	R(MANIPULATE, "sie es merken"), R(MANIPULATE, "ohne es zu merken"),
	R(MANIPULATE, "falschem zeitdruck"), R(MANIPULATE, "falschen zeitdruck"),
	R(MANIPULATE, "psychologischen druck"), R(MANIPULATE, "hinters licht"), R(MANIPULATE, "vorgaukel*"),
	R(MANIPULATE, "vortäusch*"), R(MANIPULATE, "glauben machen"), R(MANIPULATE, "glauben lassen"),
	R(MANIPULATE, "subliminale*"), R(MANIPULATE, "tromp*"), R(MANIPULATE, "à leur insu"),
	R(MANIPULATE, "insu"), R(MANIPULATE, "mensong*"), R(MANIPULATE, "fallacieu*"),
	R(MANIPULATE, "faire croire"), R(MANIPULATE, "faisant croire"), R(MANIPULATE, "culpabilis*"),
	R(MANIPULATE, "fausse urgence"), R(MANIPULATE, "faux compte à rebours"),
	R(MANIPULATE, "engañ*"), R(MANIPULATE, "se den cuenta"), R(MANIPULATE, "sin darse cuenta"),
	R(MANIPULATE, "patrones oscuros"), R(MANIPULATE, "falsa urgencia"), R(MANIPULATE, "falsas ofertas"),
	R(MANIPULATE, "hacer creer"), R(MANIPULATE, "haciéndoles creer"), R(MANIPULATE, "culpabiliz*"),
	R(MANIPULATE, "manipol*"), R(MANIPULATE, "ingann*"), R(MANIPULATE, "a loro insaputa"),
	R(MANIPULATE, "insaputa"), R(MANIPULATE, "se ne accorgano"), R(MANIPULATE, "far credere"),
	R(MANIPULATE, "facendo credere"), R(MANIPULATE, "falsa urgenza"),

	/* the people whose behaviour is distorted */
	R(PEOPLE, "user"), R(PEOPLE, "users"), R(PEOPLE, "customer*"), R(PEOPLE, "consumer*"),
	R(PEOPLE, "client*"), R(PEOPLE, "player*"), R(PEOPLE, "gambler*"), R(PEOPLE, "voter*"),
	R(PEOPLE, "buyer*"), R(PEOPLE, "visitor*"), R(PEOPLE, "subscriber*"), R(PEOPLE, "viewer*"),
	R(PEOPLE, "people"), R(PEOPLE, "readers"), R(PEOPLE, "shoppers"), R(PEOPLE, "followers"), R(PEOPLE, "listeners"), R(PEOPLE, "someone"), R(PEOPLE, "anyone"), R(PEOPLE, "zuschauer*"), R(PEOPLE, "zuhörer*"), R(PEOPLE, "spectateur*"), R(PEOPLE, "auditeur*"), R(PEOPLE, "espectador*"), R(PEOPLE, "oyentes"), R(PEOPLE, "spettator*"), R(PEOPLE, "ascoltator*"),
	R(PEOPLE, "kund*"), R(PEOPLE, "nutzer*"), R(PEOPLE, "benutzer*"), R(PEOPLE, "verbraucher*"),
	R(PEOPLE, "spieler*"), R(PEOPLE, "wähler*"), R(PEOPLE, "besucher*"), R(PEOPLE, "abonnent*"),
	R(PEOPLE, "menschen"), R(PEOPLE, "leute"), R(PEOPLE, "käufer*"),
	R(PEOPLE, "utilisateur*"), R(PEOPLE, "consommateur*"), R(PEOPLE, "joueur*"), R(PEOPLE, "électeur*"),
	R(PEOPLE, "visiteur*"), R(PEOPLE, "abonné*"), R(PEOPLE, "gens"), R(PEOPLE, "personnes"),
	R(PEOPLE, "acheteur*"), R(PEOPLE, "internaute*"),
	R(PEOPLE, "usuario*"), R(PEOPLE, "consumidor*"), R(PEOPLE, "jugador*"), R(PEOPLE, "apostador*"),
	R(PEOPLE, "votante*"), R(PEOPLE, "electores"), R(PEOPLE, "visitante*"), R(PEOPLE, "suscriptor*"),
	R(PEOPLE, "gente"), R(PEOPLE, "personas"), R(PEOPLE, "compradores"),
	R(PEOPLE, "utent*"), R(PEOPLE, "consumator*"), R(PEOPLE, "giocator*"), R(PEOPLE, "elettor*"),
	R(PEOPLE, "visitator*"), R(PEOPLE, "abbonat*"), R(PEOPLE, "persone"), R(PEOPLE, "acquirent*"),

	/* vulnerabilities: age, disability, social or economic situation */
	R(VULNERABLE, "elderly"), R(VULNERABLE, "senior*"), R(VULNERABLE, "old people"),
	R(VULNERABLE, "older people"), R(VULNERABLE, "pensioner*"), R(VULNERABLE, "retiree*"),
	R(VULNERABLE, "dementia"), R(VULNERABLE, "children*"), R(VULNERABLE, "child"), R(VULNERABLE, "kids"),
	R(VULNERABLE, "minors"), R(VULNERABLE, "teenager*"), R(VULNERABLE, "disabilit*"),
	R(VULNERABLE, "disabled"), R(VULNERABLE, "impaired"), R(VULNERABLE, "surendett*"), R(VULNERABLE, "single parents"), R(VULNERABLE, "broke"), R(VULNERABLE, "en paro"), R(VULNERABLE, "pleite"), R(VULNERABLE, "fauchés"), R(VULNERABLE, "al verde"), R(VULNERABLE, "widow*"), R(VULNERABLE, "problem gambl*"), R(VULNERABLE, "problemi di gioco"), R(VULNERABLE, "verwitwet*"), R(VULNERABLE, "veuf*"), R(VULNERABLE, "veuve*"), R(VULNERABLE, "viud*"), R(VULNERABLE, "vedov*"), R(VULNERABLE, "money worries"), R(VULNERABLE, "geldsorgen"), R(VULNERABLE, "alleinerziehend*"), R(VULNERABLE, "wenig einkommen"), R(VULNERABLE, "geringem einkommen"), R(VULNERABLE, "monoparental*"), R(VULNERABLE, "madres solteras"), R(VULNERABLE, "genitori single"), R(VULNERABLE, "pover*"), R(VULNERABLE, "preoccupazioni economiche"), R(VULNERABLE, "difficultés financières"), R(VULNERABLE, "dificultades económicas"), R(VULNERABLE, "debt*"), R(VULNERABLE, "indebted"), R(VULNERABLE, "poor"),
	R(VULNERABLE, "poverty"), R(VULNERABLE, "low income"),
	R(VULNERABLE, "unemployed"), R(VULNERABLE, "lonely"), R(VULNERABLE, "isolated"),
	R(VULNERABLE, "addict*"), R(VULNERABLE, "desperate"), R(VULNERABLE, "grieving"),
	R(VULNERABLE, "impairment*"), R(VULNERABLE, "autis*"), R(VULNERABLE, "refugee*"),
	R(VULNERABLE, "financial hardship"), R(VULNERABLE, "struggling financially"),
	R(VULNERABLE, "learning disabilit*"),
	R(VULNERABLE, "senior*"), R(VULNERABLE, "rentner*"), R(VULNERABLE, "ältere*"), R(VULNERABLE, "demenz*"),
	R(VULNERABLE, "kinder*"), R(VULNERABLE, "kind"), R(VULNERABLE, "minderjährig*"),
	R(VULNERABLE, "jugendlich*"), R(VULNERABLE, "behindert*"), R(VULNERABLE, "behinderung*"),
	R(VULNERABLE, "schulden*"), R(VULNERABLE, "verschuldet*"), R(VULNERABLE, "notlage"),
	R(VULNERABLE, "arbeitslos*"), R(VULNERABLE, "einsam*"), R(VULNERABLE, "süchtig*"),
	R(VULNERABLE, "spielsucht*"), R(VULNERABLE, "verzweifelt*"), R(VULNERABLE, "arm"), R(VULNERABLE, "armut"),
	R(VULNERABLE, "geringverdiener*"), R(VULNERABLE, "hartz"), R(VULNERABLE, "bürgergeld*"),
	R(VULNERABLE, "personnes âgées"), R(VULNERABLE, "âgés"), R(VULNERABLE, "âgées"), R(VULNERABLE, "retraité*"),
	R(VULNERABLE, "démen*"), R(VULNERABLE, "alzheimer*"), R(VULNERABLE, "enfant*"),
	R(VULNERABLE, "mineur*"), R(VULNERABLE, "adolescent*"), R(VULNERABLE, "handicap*"),
	R(VULNERABLE, "endetté*"), R(VULNERABLE, "dettes"), R(VULNERABLE, "pauvre*"), R(VULNERABLE, "précaire*"),
	R(VULNERABLE, "précarité"), R(VULNERABLE, "chômeu*"), R(VULNERABLE, "chômage"), R(VULNERABLE, "isolé*"),
	R(VULNERABLE, "solitude"), R(VULNERABLE, "dépendan*"), R(VULNERABLE, "désespér*"),
	R(VULNERABLE, "vulnérab*"), R(VULNERABLE, "malvoyant*"),
	R(VULNERABLE, "personas mayores"), R(VULNERABLE, "ancian*"), R(VULNERABLE, "jubilad*"),
	R(VULNERABLE, "demencia"), R(VULNERABLE, "niños"), R(VULNERABLE, "niñas"), R(VULNERABLE, "menores"),
	R(VULNERABLE, "discapacidad*"), R(VULNERABLE, "discapacitad*"), R(VULNERABLE, "endeudad*"),
	R(VULNERABLE, "deudas"), R(VULNERABLE, "pobre*"), R(VULNERABLE, "pobreza"), R(VULNERABLE, "desemplead*"),
	R(VULNERABLE, "parad*"), R(VULNERABLE, "solos"), R(VULNERABLE, "soledad"), R(VULNERABLE, "adicci*"),
	R(VULNERABLE, "adict*"), R(VULNERABLE, "desesper*"), R(VULNERABLE, "vulnerab*"), R(VULNERABLE, "ludopat*"),
	R(VULNERABLE, "anzian*"), R(VULNERABLE, "pensionat*"), R(VULNERABLE, "demenza"), R(VULNERABLE, "bambin*"),
	R(VULNERABLE, "minorenn*"), R(VULNERABLE, "ragazzin*"), R(VULNERABLE, "disabil*"),
	R(VULNERABLE, "indebitat*"), R(VULNERABLE, "debiti"), R(VULNERABLE, "povert*"), R(VULNERABLE, "poveri"),
	R(VULNERABLE, "disoccupat*"), R(VULNERABLE, "soli"), R(VULNERABLE, "solitudine"),
	R(VULNERABLE, "dipendenza"), R(VULNERABLE, "ludopat*"), R(VULNERABLE, "fragil*"),
	R(VULNERABLE, "difficoltà economiche"), R(VULNERABLE, "disperat*"),

	/* exploiting them */
	R(EXPLOIT, "exploit*"), R(EXPLOIT, "take advantage"), R(EXPLOIT, "taking advantage"), R(EXPLOIT, "advantage of"), R(EXPLOIT, "play on"), R(EXPLOIT, "push them to"), R(EXPLOIT, "bevor die angehörigen"), R(EXPLOIT, "before their family"), R(EXPLOIT, "before relatives"), R(EXPLOIT, "prima che i familiari"), R(EXPLOIT, "su urgencia"), R(EXPLOIT, "their urgency"), R(EXPLOIT, "in shock"), R(EXPLOIT, "sous le choc"), R(EXPLOIT, "unter schock"), R(EXPLOIT, "en shock"), R(EXPLOIT, "sotto shock"), R(EXPLOIT, "before they can"), R(EXPLOIT, "on the line"), R(EXPLOIT, "confused"), R(EXPLOIT, "verwirrt*"), R(EXPLOIT, "confus"), R(EXPLOIT, "confuses"), R(EXPLOIT, "confundid*"), R(EXPLOIT, "confusi"), R(EXPLOIT, "plays on"), R(EXPLOIT, "playing on"),
	R(EXPLOIT, "prey on"), R(EXPLOIT, "preying on"), R(EXPLOIT, "their confusion"),
	R(EXPLOIT, "their weakness*"), R(EXPLOIT, "their desperation"), R(EXPLOIT, "their loneliness"),
	R(EXPLOIT, "their impulsivity"), R(EXPLOIT, "pressure them"), R(EXPLOIT, "pressuring them"),
	R(EXPLOIT, "lure*"), R(EXPLOIT, "won t remember"), R(EXPLOIT, "can t understand"),
	R(EXPLOIT, "ausnutz*"), R(EXPLOIT, "ausnütz*"), R(EXPLOIT, "ausbeut*"), R(EXPLOIT, "nutzt"),
	R(EXPLOIT, "ihre verzweiflung"), R(EXPLOIT, "ihre vergesslichkeit"), R(EXPLOIT, "ihre einsamkeit"),
	R(EXPLOIT, "locken"), R(EXPLOIT, "unter druck setz*"),
	R(EXPLOIT, "exploit*"), R(EXPLOIT, "profit* de"), R(EXPLOIT, "abus* de"), R(EXPLOIT, "leur solitude"),
	R(EXPLOIT, "leur vulnérabilité"), R(EXPLOIT, "leur détresse"), R(EXPLOIT, "leur confusion"),
	R(EXPLOIT, "explot*"), R(EXPLOIT, "aprovech*"), R(EXPLOIT, "su desesperación"),
	R(EXPLOIT, "su vulnerabilidad"), R(EXPLOIT, "su soledad"), R(EXPLOIT, "su confusión"),
	R(EXPLOIT, "sfrutt*"), R(EXPLOIT, "approfitt*"), R(EXPLOIT, "la loro fragilità"),
	R(EXPLOIT, "la loro solitudine"), R(EXPLOIT, "la loro dipendenza"), R(EXPLOIT, "la loro confusione"),

	/* defensive, protective, accessible purposes */
	R(DEFENSIVE, "detect*"), R(DEFENSIVE, "recogni*"), R(DEFENSIVE, "to spot"), R(DEFENSIVE, "audit*"),
	R(DEFENSIVE, "review"), R(DEFENSIVE, "avoid*"), R(DEFENSIVE, "prevent*"), R(DEFENSIVE, "remove"),
	R(DEFENSIVE, "warn*"), R(DEFENSIVE, "awareness"), R(DEFENSIVE, "protect*"), R(DEFENSIVE, "safeguard*"),
	R(DEFENSIVE, "accessib*"), R(DEFENSIVE, "plain language"), R(DEFENSIVE, "easy to read"),
	R(DEFENSIVE, "phishing"), R(DEFENSIVE, "scam*"), R(DEFENSIVE, "fraudsters"), R(DEFENSIVE, "inclusive"),
	R(DEFENSIVE, "erkennen"), R(DEFENSIVE, "schütz*"), R(DEFENSIVE, "schutz"), R(DEFENSIVE, "verbraucherschutz*"),
	R(DEFENSIVE, "vermeid*"), R(DEFENSIVE, "verhinder*"), R(DEFENSIVE, "warnen"), R(DEFENSIVE, "warnung*"),
	R(DEFENSIVE, "barrierefrei*"), R(DEFENSIVE, "leichter sprache"), R(DEFENSIVE, "leichte sprache"),
	R(DEFENSIVE, "betrugsmasche*"), R(DEFENSIVE, "abzocke"),
	R(DEFENSIVE, "repérer"), R(DEFENSIVE, "repère*"), R(DEFENSIVE, "reconnaître"), R(DEFENSIVE, "protég*"),
	R(DEFENSIVE, "protection"), R(DEFENSIVE, "éviter"), R(DEFENSIVE, "sensibilis*"), R(DEFENSIVE, "accessible*"),
	R(DEFENSIVE, "facile à lire"), R(DEFENSIVE, "arnaque*"), R(DEFENSIVE, "détecter"),
	R(DEFENSIVE, "detectar*"), R(DEFENSIVE, "proteger"), R(DEFENSIVE, "protección"), R(DEFENSIVE, "evitar"),
	R(DEFENSIVE, "reconocer*"), R(DEFENSIVE, "accesib*"), R(DEFENSIVE, "lectura fácil"), R(DEFENSIVE, "estafa*"),
	R(DEFENSIVE, "riconoscer*"), R(DEFENSIVE, "protegg*"), R(DEFENSIVE, "protezion*"), R(DEFENSIVE, "evitare"),
	R(DEFENSIVE, "accessibil*"), R(DEFENSIVE, "truff*"), R(DEFENSIVE, "linguaggio semplice"),
	R(DEFENSIVE, "sensibilizz*"), R(DEFENSIVE, "rifiutare"),

	/* explaining, studying, discussing the law */
	R(EXPLAIN, "explain*"), R(EXPLAIN, "summar*"), R(EXPLAIN, "what are"), R(EXPLAIN, "what is"),
	R(EXPLAIN, "how does"), R(EXPLAIN, "why"), R(EXPLAIN, "essay"), R(EXPLAIN, "thesis"),
	R(EXPLAIN, "lecture"), R(EXPLAIN, "literature"), R(EXPLAIN, "research*"), R(EXPLAIN, "ai act"),
	R(EXPLAIN, "banned"), R(EXPLAIN, "bans"), R(EXPLAIN, "prohibit*"), R(EXPLAIN, "illegal"),
	R(EXPLAIN, "history of"), R(EXPLAIN, "ethics"), R(EXPLAIN, "regulation"), R(EXPLAIN, "regulier*"), R(EXPLAIN, "réglementation"), R(EXPLAIN, "regulación"), R(EXPLAIN, "regolamentazion*"),
	R(EXPLAIN, "erklär*"), R(EXPLAIN, "fasse"), R(EXPLAIN, "zusammenfass*"), R(EXPLAIN, "was ist"),
	R(EXPLAIN, "wie funktioniert"), R(EXPLAIN, "warum"), R(EXPLAIN, "forschung*"), R(EXPLAIN, "aufsatz"),
	R(EXPLAIN, "hausarbeit"), R(EXPLAIN, "verboten"), R(EXPLAIN, "verbot*"), R(EXPLAIN, "studie*"),
	R(EXPLAIN, "expliqu*"), R(EXPLAIN, "quels sont"), R(EXPLAIN, "quelles sont"), R(EXPLAIN, "cuáles son"), R(EXPLAIN, "quali sono"), R(EXPLAIN, "welche sind"), R(EXPLAIN, "synthès*"), R(EXPLAIN, "qu est ce"), R(EXPLAIN, "pourquoi"),
	R(EXPLAIN, "interdit*"), R(EXPLAIN, "mémoire"), R(EXPLAIN, "cours sur"),
	R(EXPLAIN, "explic*"), R(EXPLAIN, "cómo funciona"),
	R(EXPLAIN, "resumen"), R(EXPLAIN, "resumir"), R(EXPLAIN, "tesis"), R(EXPLAIN, "ensayo"),
	R(EXPLAIN, "teoría*"), R(EXPLAIN, "prohibición"), R(EXPLAIN, "prohíbe"), R(EXPLAIN, "investigación"),
	R(EXPLAIN, "spieg*"), R(EXPLAIN, "riassum*"), R(EXPLAIN, "cos è"), R(EXPLAIN, "come funziona"),
	R(EXPLAIN, "tesi"), R(EXPLAIN, "saggio"), R(EXPLAIN, "teori*"), R(EXPLAIN, "vietat*"),
	R(EXPLAIN, "vieta"), R(EXPLAIN, "perché"),

	/* scores and rankings of persons */
	R(SCORE, "score*"), R(SCORE, "grade"), R(SCORE, "index"), R(SCORE, "wohlverhalten*"), R(SCORE, "mindestwert*"), R(SCORE, "graduatori*"), R(SCORE, "graded"), R(SCORE, "grading"), R(SCORE, "stufe"), R(SCORE, "classés"), R(SCORE, "indice"), R(SCORE, "scoring"), R(SCORE, "rating*"), R(SCORE, "rate"),
	R(SCORE, "social credit"), R(SCORE, "trustworth*"), R(SCORE, "point system"), R(SCORE, "points"),
	R(SCORE, "rank*"), R(SCORE, "blacklist*"), R(SCORE, "grade them"), R(SCORE, "reliability index"),
	R(SCORE, "punkt*"), R(SCORE, "bewert*"), R(SCORE, "rangliste*"), R(SCORE, "vertrauenswürdig*"),
	R(SCORE, "schwarze liste"), R(SCORE, "einstuf*"), R(SCORE, "benot*"),
	R(SCORE, "note"), R(SCORE, "notation"), R(SCORE, "noter"), R(SCORE, "classement*"), R(SCORE, "classe"),
	R(SCORE, "fiabilité"), R(SCORE, "liste noire"),
	R(SCORE, "puntua*"), R(SCORE, "puntúa*"), R(SCORE, "calificación"), R(SCORE, "calificar"),
	R(SCORE, "valorad*"), R(SCORE, "lista negra"), R(SCORE, "confiabilidad"),
	R(SCORE, "punteggi*"), R(SCORE, "voto"), R(SCORE, "valut*"), R(SCORE, "affidabilità"),
	R(SCORE, "classifica"), R(SCORE, "lista nera"),

	/* social behaviour, private life, personal characteristics */
	R(SOCIAL, "social"), R(SOCIAL, "private life"), R(SOCIAL, "personal life"), R(SOCIAL, "lifestyle*"),
	R(SOCIAL, "friendship*"), R(SOCIAL, "friends"), R(SOCIAL, "free time"), R(SOCIAL, "leisure"),
	R(SOCIAL, "personal conduct"), R(SOCIAL, "behaviour"), R(SOCIAL, "behavior"), R(SOCIAL, "reputation"),
	R(SOCIAL, "posts"), R(SOCIAL, "associate with"), R(SOCIAL, "personal characteristics"), R(SOCIAL, "online activity"), R(SOCIAL, "what they post"), R(SOCIAL, "lebenswandel"), R(SOCIAL, "kontakte*"), R(SOCIAL, "contacts"), R(SOCIAL, "contactos"), R(SOCIAL, "contatti"), R(SOCIAL, "nightlife"), R(SOCIAL, "relationships"), R(SOCIAL, "vereinsleben"), R(SOCIAL, "kommentare*"), R(SOCIAL, "likes"), R(SOCIAL, "publicaciones"), R(SOCIAL, "se junta"), R(SOCIAL, "vita sociale"), R(SOCIAL, "vie sociale"), R(SOCIAL, "vida social"), R(SOCIAL, "who visits"), R(SOCIAL, "conduite"), R(SOCIAL, "publications"), R(SOCIAL, "sorties"), R(SOCIAL, "habits"), R(SOCIAL, "gewohnheiten"), R(SOCIAL, "habitudes"), R(SOCIAL, "hábitos"), R(SOCIAL, "abitudini"),
	R(SOCIAL, "sozialverhalten"), R(SOCIAL, "privatleben*"), R(SOCIAL, "lebensstil*"),
	R(SOCIAL, "lebensweise"), R(SOCIAL, "freundeskreis*"), R(SOCIAL, "freizeit*"), R(SOCIAL, "verhalten*"),
	R(SOCIAL, "umgang"), R(SOCIAL, "sozialen"),
	R(SOCIAL, "comportement*"), R(SOCIAL, "vie privée"), R(SOCIAL, "réseaux sociaux"),
	R(SOCIAL, "fréquentation*"), R(SOCIAL, "mode de vie"), R(SOCIAL, "amis"), R(SOCIAL, "loisirs"),
	R(SOCIAL, "sociale"),
	R(SOCIAL, "comportamiento*"), R(SOCIAL, "conducta*"), R(SOCIAL, "vida privada"),
	R(SOCIAL, "redes sociales"), R(SOCIAL, "amistad*"), R(SOCIAL, "estilo de vida"),
	R(SOCIAL, "tiempo libre"),
	R(SOCIAL, "comportament*"), R(SOCIAL, "vita privata"), R(SOCIAL, "frequentazion*"),
	R(SOCIAL, "stile di vita"), R(SOCIAL, "amicizi*"), R(SOCIAL, "tempo libero"), R(SOCIAL, "condotta"),

	/* detrimental or unfavourable treatment */
	R(DETRIMENT, "deny"), R(DETRIMENT, "denied"), R(DETRIMENT, "denies"), R(DETRIMENT, "refus*"),
	R(DETRIMENT, "exclud*"), R(DETRIMENT, "restrict*"), R(DETRIMENT, "penalis*"), R(DETRIMENT, "penaliz*"),
	R(DETRIMENT, "fewer benefits"), R(DETRIMENT, "slower service"), R(DETRIMENT, "higher prices"),
	R(DETRIMENT, "higher premium*"), R(DETRIMENT, "evict*"), R(DETRIMENT, "punish*"),
	R(DETRIMENT, "disadvantag*"), R(DETRIMENT, "cut their"), R(DETRIMENT, "withhold*"), R(DETRIMENT, "lower priority"), R(DETRIMENT, "ineligible"), R(DETRIMENT, "loses"), R(DETRIMENT, "hide"), R(DETRIMENT, "nur ab"), R(DETRIMENT, "retire"), R(DETRIMENT, "retirer"), R(DETRIMENT, "quita"), R(DETRIMENT, "blocca"), R(DETRIMENT, "bloquea"), R(DETRIMENT, "lose the"), R(DETRIMENT, "lose their"), R(DETRIMENT, "no longer"), R(DETRIMENT, "nicht mehr"), R(DETRIMENT, "suspend*"), R(DETRIMENT, "ne plus"), R(DETRIMENT, "deja sin"), R(DETRIMENT, "dejar sin"), R(DETRIMENT, "ya no"), R(DETRIMENT, "non più"), R(DETRIMENT, "not eligible"), R(DETRIMENT, "deprioriti*"), R(DETRIMENT, "block"), R(DETRIMENT, "blocked"), R(DETRIMENT, "kündig*"), R(DETRIMENT, "denieg*"),
	R(DETRIMENT, "verweiger*"), R(DETRIMENT, "ausschließ*"), R(DETRIMENT, "schließ*"),
	R(DETRIMENT, "ausgeschlossen"), R(DETRIMENT, "benachteilig*"), R(DETRIMENT, "bestraf*"),
	R(DETRIMENT, "sperr*"), R(DETRIMENT, "kürz*"), R(DETRIMENT, "streich*"), R(DETRIMENT, "höhere preise"),
	R(DETRIMENT, "exclu*"), R(DETRIMENT, "pénalis*"), R(DETRIMENT, "priver"), R(DETRIMENT, "prive"),
	R(DETRIMENT, "sanction*"), R(DETRIMENT, "supprim*"),
	R(DETRIMENT, "nieg*"), R(DETRIMENT, "negar*"), R(DETRIMENT, "deneg*"), R(DETRIMENT, "castig*"),
	R(DETRIMENT, "retira*"), R(DETRIMENT, "quitar*"),
	R(DETRIMENT, "nega"), R(DETRIMENT, "negare"), R(DETRIMENT, "negarg*"), R(DETRIMENT, "esclud*"),
	R(DETRIMENT, "penalizz*"), R(DETRIMENT, "togli*"), R(DETRIMENT, "sanzion*"), R(DETRIMENT, "rifiut*"),

	/* predicting */
	R(PREDICT, "predict*"), R(PREDICT, "forecast*"), R(PREDICT, "likel*"), R(PREDICT, "probab*"),
	R(PREDICT, "estimat*"), R(PREDICT, "risk*"), R(PREDICT, "propens*"), R(PREDICT, "foresee"), R(PREDICT, "going to"), R(PREDICT, "am ehesten"), R(PREDICT, "würde"), R(PREDICT, "würden"), R(PREDICT, "most likely"), R(PREDICT, "in the future"), R(PREDICT, "neigen"), R(PREDICT, "chance"), R(PREDICT, "chances"), R(PREDICT, "pourcentage"), R(PREDICT, "diventer*"), R(PREDICT, "deviendr*"), R(PREDICT, "se convertirá"), R(PREDICT, "turn into"), R(PREDICT, "who will"), R(PREDICT, "end up"), R(PREDICT, "ends up"), R(PREDICT, "will become"), R(PREDICT, "später"), R(PREDICT, "künftig*"), R(PREDICT, "zukünftig*"), R(PREDICT, "finira"), R(PREDICT, "finiront"), R(PREDICT, "acabará*"), R(PREDICT, "finirà"), R(PREDICT, "finiranno"),
	R(PREDICT, "vorhers*"), R(PREDICT, "vorherzus*"), R(PREDICT, "sag voraus"), R(PREDICT, "voraussag*"), R(PREDICT, "vorauszusag*"), R(PREDICT, "prognos*"), R(PREDICT, "wahrscheinlich*"),
	R(PREDICT, "einschätz*"), R(PREDICT, "schätz*"), R(PREDICT, "risiko*"), R(PREDICT, "neigung*"),
	R(PREDICT, "prédi*"), R(PREDICT, "risque*"), R(PREDICT, "estim*"), R(PREDICT, "prévoi*"),
	R(PREDICT, "predec*"), R(PREDICT, "predic*"), R(PREDICT, "riesgo*"), R(PREDICT, "prever"),
	R(PREDICT, "pronóstic*"),
	R(PREDICT, "preved*"), R(PREDICT, "prevision*"), R(PREDICT, "rischi*"), R(PREDICT, "stima"),
	R(PREDICT, "stimare"), R(PREDICT, "stimi"), R(PREDICT, "predir*"), R(PREDICT, "propension*"),

	/* criminal offences */
	R(CRIME, "crim*"), R(CRIME, "offence*"), R(CRIME, "offense*"), R(CRIME, "offend*"),
	R(CRIME, "shoplift*"), R(CRIME, "steal*"), R(CRIME, "theft*"), R(CRIME, "thief"), R(CRIME, "thieves"),
	R(CRIME, "burglar*"), R(CRIME, "reoffend*"), R(CRIME, "recidiv*"), R(CRIME, "delinquen*"),
	R(CRIME, "robbery"), R(CRIME, "break the law"), R(CRIME, "fraud*"), R(CRIME, "embezzl*"), R(CRIME, "unterschlag*"), R(CRIME, "malversa*"), R(CRIME, "gewalt*"), R(CRIME, "violen*"), R(CRIME, "dealer*"), R(CRIME, "drug deal*"), R(CRIME, "spacciat*"), R(CRIME, "spaccio"), R(CRIME, "narcotrafic*"), R(CRIME, "traficante*"),
	R(CRIME, "straftat*"), R(CRIME, "straffällig*"), R(CRIME, "krimin*"), R(CRIME, "verbrech*"),
	R(CRIME, "diebstahl*"), R(CRIME, "diebstähl*"), R(CRIME, "stehl*"), R(CRIME, "klau*"),
	R(CRIME, "einbruch*"), R(CRIME, "delikt*"), R(CRIME, "rückfall*"), R(CRIME, "betrug*"),
	R(CRIME, "délit*"), R(CRIME, "délinqu*"), R(CRIME, "infraction*"), R(CRIME, "vol"), R(CRIME, "vols"),
	R(CRIME, "voler"), R(CRIME, "cambriol*"), R(CRIME, "récidiv*"), R(CRIME, "fraude*"),
	R(CRIME, "delito*"), R(CRIME, "delinc*"), R(CRIME, "robar"), R(CRIME, "robo"), R(CRIME, "robos"),
	R(CRIME, "hurto*"), R(CRIME, "reincid*"),
	R(CRIME, "reato"), R(CRIME, "reati"), R(CRIME, "delinqu*"), R(CRIME, "furto"), R(CRIME, "furti"),
	R(CRIME, "rubar*"), R(CRIME, "ladr*"), R(CRIME, "frode*"),

	/* profiling and personality traits */
	R(PROFILE, "personalit*"), R(PROFILE, "trait*"), R(PROFILE, "profil*"), R(PROFILE, "upbringing"),
	R(PROFILE, "family background"), R(PROFILE, "neighbourhood*"), R(PROFILE, "neighborhood*"),
	R(PROFILE, "nationalit*"), R(PROFILE, "appearance*"), R(PROFILE, "looks"), R(PROFILE, "origin"),
	R(PROFILE, "psycholog*"), R(PROFILE, "where he lives"), R(PROFILE, "where they live"),
	R(PROFILE, "ethnic*"), R(PROFILE, "character"), R(PROFILE, "temperament"),
	R(PROFILE, "persönlichkeit*"), R(PROFILE, "merkmal*"), R(PROFILE, "charakter*"), R(PROFILE, "herkunft"),
	R(PROFILE, "wohnviertel*"), R(PROFILE, "stadtteil*"), R(PROFILE, "nachbarschaft*"),
	R(PROFILE, "nationalität*"), R(PROFILE, "aussehen*"), R(PROFILE, "erscheinungsbild*"),
	R(PROFILE, "familiären hintergrund"), R(PROFILE, "erziehung"), R(PROFILE, "elternhaus*"), R(PROFILE, "herkunftsland*"), R(PROFILE, "auftreten*"), R(PROFILE, "questionnaire*"), R(PROFILE, "wohngegend*"),
	R(PROFILE, "personnalit*"), R(PROFILE, "quartier*"), R(PROFILE, "origine*"), R(PROFILE, "apparence*"),
	R(PROFILE, "caractère*"), R(PROFILE, "milieu familial"),
	R(PROFILE, "personalidad*"), R(PROFILE, "rasgo*"), R(PROFILE, "perfil*"), R(PROFILE, "barrio*"),
	R(PROFILE, "origen"), R(PROFILE, "nacionalidad*"), R(PROFILE, "apariencia*"), R(PROFILE, "aspecto"),
	R(PROFILE, "carácter"), R(PROFILE, "psicolog*"), R(PROFILE, "familia"),
	R(PROFILE, "tratti"), R(PROFILE, "tratto"), R(PROFILE, "quartier*"), R(PROFILE, "aspetto"),
	R(PROFILE, "caratter*"), R(PROFILE, "famiglia"), R(PROFILE, "nazionalit*"),

	/* aggregate, statistical or de-identified data */
	R(AGGREGATE, "aggregat*"), R(AGGREGATE, "statistic*"), R(AGGREGATE, "anonymi*"),
	R(AGGREGATE, "anonymous"), R(AGGREGATE, "per district"), R(AGGREGATE, "average*"),
	R(AGGREGATE, "blur*"), R(AGGREGATE, "pixelat*"), R(AGGREGATE, "trends"),
	R(AGGREGATE, "aggregiert*"), R(AGGREGATE, "statistik*"), R(AGGREGATE, "anonymisiert*"),
	R(AGGREGATE, "durchschnitt*"), R(AGGREGATE, "verpixel*"), R(AGGREGATE, "unkenntlich*"),
	R(AGGREGATE, "agrégé*"), R(AGGREGATE, "statisti*"), R(AGGREGATE, "anonym*"), R(AGGREGATE, "flout*"),
	R(AGGREGATE, "agregad*"), R(AGGREGATE, "estadístic*"), R(AGGREGATE, "anonimi*"), R(AGGREGATE, "difumin*"),
	R(AGGREGATE, "aggregat*"), R(AGGREGATE, "anonim*"), R(AGGREGATE, "sfoca*"), R(AGGREGATE, "oscura*"),

	/* human assessment on objective and verifiable facts */
	R(HUMAN_REVIEW, "human"), R(HUMAN_REVIEW, "objective*"), R(HUMAN_REVIEW, "verifiab*"),
	R(HUMAN_REVIEW, "menschlich*"), R(HUMAN_REVIEW, "sachbearbeiter*"), R(HUMAN_REVIEW, "objektiv*"),
	R(HUMAN_REVIEW, "überprüfbar*"), R(HUMAN_REVIEW, "nachprüfbar*"), R(HUMAN_REVIEW, "dokumentierten fakten"),
	R(HUMAN_REVIEW, "humain*"), R(HUMAN_REVIEW, "objectif*"), R(HUMAN_REVIEW, "vérifiab*"),
	R(HUMAN_REVIEW, "humano*"), R(HUMAN_REVIEW, "objetiv*"), R(HUMAN_REVIEW, "verificab*"),
	R(HUMAN_REVIEW, "umano"), R(HUMAN_REVIEW, "umana"), R(HUMAN_REVIEW, "oggettiv*"),
	R(HUMAN_REVIEW, "verificabil*"),

	/* scraping, harvesting */
	R(SCRAPE, "scrap*"), R(SCRAPE, "crawl*"), R(SCRAPE, "harvest*"), R(SCRAPE, "collect*"),
	R(SCRAPE, "download all"), R(SCRAPE, "download every"), R(SCRAPE, "en masse"), R(SCRAPE, "bulk"),
	R(SCRAPE, "extract*"), R(SCRAPE, "gather*"), R(SCRAPE, "grab*"), R(SCRAPE, "mass download*"),
	R(SCRAPE, "sammel*"), R(SCRAPE, "sammle"), R(SCRAPE, "pull all"), R(SCRAPE, "sammlung*"), R(SCRAPE, "save every"), R(SCRAPE, "store every"), R(SCRAPE, "speichere"), R(SCRAPE, "speichern"), R(SCRAPE, "archivia*"), R(SCRAPE, "archive all"), R(SCRAPE, "every photo"), R(SCRAPE, "all photos"), R(SCRAPE, "save the faces"), R(SCRAPE, "store the faces"), R(SCRAPE, "speichere die gesichter"), R(SCRAPE, "alle fotos"), R(SCRAPE, "parcours"), R(SCRAPE, "parcourir"), R(SCRAPE, "chaque photo"), R(SCRAPE, "toutes les photos"), R(SCRAPE, "guarda las caras"), R(SCRAPE, "guarda los rostros"), R(SCRAPE, "todas las fotos"), R(SCRAPE, "salva i volti"), R(SCRAPE, "tutte le foto"), R(SCRAPE, "pulls all"), R(SCRAPE, "pull every"), R(SCRAPE, "pulls every"), R(SCRAPE, "herunter"), R(SCRAPE, "lade alle"), R(SCRAPE, "scan"), R(SCRAPE, "scansion*"), R(SCRAPE, "raccolg*"), R(SCRAPE, "massenhaft*"), R(SCRAPE, "extrahier*"), R(SCRAPE, "abgreif*"),
	R(SCRAPE, "absaug*"), R(SCRAPE, "herunterlad*"), R(SCRAPE, "zusammentrag*"),
	R(SCRAPE, "aspir*"), R(SCRAPE, "moissonn*"), R(SCRAPE, "extrai*"), R(SCRAPE, "récupér*"),
	R(SCRAPE, "télécharg*"), R(SCRAPE, "rassembl*"),
	R(SCRAPE, "rastrea*"), R(SCRAPE, "recopil*"), R(SCRAPE, "extra*"), R(SCRAPE, "descarg*"),
	R(SCRAPE, "recolect*"), R(SCRAPE, "raccogl*"), R(SCRAPE, "raccolt*"), R(SCRAPE, "estra*"),
	R(SCRAPE, "scaric*"), R(SCRAPE, "in massa"),

	/* facial images */
	R(FACE, "face"), R(FACE, "faces"), R(FACE, "facial*"), R(FACE, "profile picture*"),
	R(FACE, "profile photo*"), R(FACE, "portrait*"), R(FACE, "selfie*"), R(FACE, "headshot*"),
	R(FACE, "gesicht*"), R(FACE, "profilbild*"), R(FACE, "porträt*"), R(FACE, "personenfoto*"),
	R(FACE, "visage*"), R(FACE, "photos de profil"),
	R(FACE, "rostro*"), R(FACE, "cara"), R(FACE, "caras"), R(FACE, "fotos de perfil"), R(FACE, "retrato*"),
	R(FACE, "volto"), R(FACE, "volti"), R(FACE, "viso"), R(FACE, "visi"), R(FACE, "facciale"),
	R(FACE, "facciali"), R(FACE, "foto profilo"), R(FACE, "foto del profilo"), R(FACE, "ritratt*"),

	/* untargeted sources: the internet, social networks, CCTV */
	R(SOURCE, "internet"), R(SOURCE, "web"), R(SOURCE, "website*"), R(SOURCE, "online"),
	R(SOURCE, "social media"), R(SOURCE, "social network*"), R(SOURCE, "instagram"), R(SOURCE, "facebook"),
	R(SOURCE, "linkedin"), R(SOURCE, "tiktok"), R(SOURCE, "twitter"), R(SOURCE, "public profile*"),
	R(SOURCE, "cctv"), R(SOURCE, "surveillance camera*"), R(SOURCE, "security camera*"),
	R(SOURCE, "street camera*"), R(SOURCE, "public space*"), R(SOURCE, "dating sites"), R(SOURCE, "dating"), R(SOURCE, "flickr"), R(SOURCE, "wikipedia"), R(SOURCE, "news sites"), R(SOURCE, "verkehrskamera*"), R(SOURCE, "centro commerciale"), R(SOURCE, "shopping centre"), R(SOURCE, "einkaufszentrum"), R(SOURCE, "centre commercial"), R(SOURCE, "fußgängerzone"), R(SOURCE, "öffentlichen raum"), R(SOURCE, "bahnhof"), R(SOURCE, "gare"), R(SOURCE, "estación"), R(SOURCE, "stazione"), R(SOURCE, "train station"), R(SOURCE, "youtube"), R(SOURCE, "google images"), R(SOURCE, "sites de rencontre"), R(SOURCE, "de citas"), R(SOURCE, "siti di incontri"),
	R(SOURCE, "sozialen netzwerke*"), R(SOURCE, "überwachungskamera*"), R(SOURCE, "videoüberwachung*"),
	R(SOURCE, "öffentlichen profil*"),
	R(SOURCE, "en ligne"), R(SOURCE, "réseaux sociaux"), R(SOURCE, "vidéosurveillance"),
	R(SOURCE, "caméras de surveillance"), R(SOURCE, "profils publics"),
	R(SOURCE, "redes sociales"), R(SOURCE, "videovigilancia"), R(SOURCE, "cámaras de seguridad"),
	R(SOURCE, "cámaras de vigilancia"), R(SOURCE, "perfiles públicos"),
	R(SOURCE, "social"), R(SOURCE, "videosorveglianz*"), R(SOURCE, "telecamere"), R(SOURCE, "profili pubblici"),

	/* a face database, recognising people later (Art. 5(1)(e) "databases") */
	R(FACEDB, "face database"), R(FACEDB, "who they are"), R(FACEDB, "lookup"), R(FACEDB, "stranger*"), R(FACEDB, "facial recognition"), R(FACEDB, "face recognition"),
	R(FACEDB, "face search"), R(FACEDB, "identify them later"), R(FACEDB, "recognise people"),
	R(FACEDB, "recognize people"), R(FACEDB, "face matching"), R(FACEDB, "searchable"),
	R(FACEDB, "gesichtsdatenbank*"), R(FACEDB, "gesichtserkennung*"), R(FACEDB, "gesichtssuche*"),
	R(FACEDB, "wiedererkenn*"), R(FACEDB, "reconnaissance faciale"), R(FACEDB, "identification"),
	R(FACEDB, "base de données"), R(FACEDB, "reconocimiento facial"), R(FACEDB, "base de datos"),
	R(FACEDB, "identificarl*"), R(FACEDB, "riconoscimento facciale"), R(FACEDB, "banca dati"),
	R(FACEDB, "riconoscerl*"),

	/* consent of the persons */
	R(CONSENT, "consent*"), R(CONSENT, "volunteer*"), R(CONSENT, "opted in"), R(CONSENT, "opt in"),
	R(CONSENT, "einwillig*"), R(CONSENT, "zugestimmt"), R(CONSENT, "freiwillig*"), R(CONSENT, "einverstand*"),
	R(CONSENT, "volontaire*"), R(CONSENT, "consentimiento*"), R(CONSENT, "voluntari*"),
	R(CONSENT, "consens*"), R(CONSENT, "volontar*"),

	/* employment decisions (Annex III point 4) */
	R(DECIDE, "rank*"), R(DECIDE, "shortlist*"), R(DECIDE, "hire"), R(DECIDE, "fire"), R(DECIDE, "dismiss*"),
	R(DECIDE, "terminate"), R(DECIDE, "lay off"), R(DECIDE, "layoff*"), R(DECIDE, "let go"),
	R(DECIDE, "promote"), R(DECIDE, "promoted"), R(DECIDE, "reject"),
	R(DECIDE, "select*"), R(DECIDE, "to interview"), R(DECIDE, "assign shifts"), R(DECIDE, "allocate"),
	R(DECIDE, "bonus*"), R(DECIDE, "make redundant"), R(DECIDE, "pick one"), R(DECIDE, "choose one"), R(DECIDE, "choose between"), R(DECIDE, "umstrukturierung"), R(DECIDE, "restructuring"), R(DECIDE, "restructuration"), R(DECIDE, "reestructuración"), R(DECIDE, "ristrutturazione"), R(DECIDE, "embauch*"), R(DECIDE, "choisis"), R(DECIDE, "choisir"), R(DECIDE, "subimos"), R(DECIDE, "bajamos"), R(DECIDE, "pay rise"), R(DECIDE, "gehaltserhöhung"), R(DECIDE, "augmentation"), R(DECIDE, "aumento"), R(DECIDE, "assumiamo"), R(DECIDE, "scegli chi"), R(DECIDE, "choose who"), R(DECIDE, "elige a"), R(DECIDE, "wähle wen"), R(DECIDE, "decide which"), R(DECIDE, "decide who"), R(DECIDE, "we keep"), R(DECIDE, "not renew"), R(DECIDE, "deserves"), R(DECIDE, "laden wir"), R(DECIDE, "einladen"), R(DECIDE, "sagen wir"), R(DECIDE, "verdient"), R(DECIDE, "mérite"), R(DECIDE, "temps partiel"), R(DECIDE, "contratamos"), R(DECIDE, "renovamos"), R(DECIDE, "merece"), R(DECIDE, "merita"), R(DECIDE, "cassa integrazione"), R(DECIDE, "passaggio a"), R(DECIDE, "redundan*"), R(DECIDE, "betriebsbedingt*"), R(DECIDE, "which two"), R(DECIDE, "which three"), R(DECIDE, "the best candidate"),
	R(DECIDE, "rangfolge*"), R(DECIDE, "rangliste*"), R(DECIDE, "einstellen"), R(DECIDE, "kündig*"),
	R(DECIDE, "entlass*"), R(DECIDE, "rauswerf*"), R(DECIDE, "befördern"), R(DECIDE, "beförder*"),
	R(DECIDE, "auswählen"), R(DECIDE, "auswahl"), R(DECIDE, "absag*"), R(DECIDE, "wähle"), R(DECIDE, "besten kandidaten"),
	R(DECIDE, "welche dieser"), R(DECIDE, "schichten zuweisen"), R(DECIDE, "zuweisen"),
	R(DECIDE, "licenci*"), R(DECIDE, "embaucher"), R(DECIDE, "recruter"), R(DECIDE, "promouvoir"),
	R(DECIDE, "promu"), R(DECIDE, "classe"), R(DECIDE, "classer"), R(DECIDE, "du meilleur au"),
	R(DECIDE, "sélectionn*"), R(DECIDE, "renvoyer"), R(DECIDE, "convoquer"),
	R(DECIDE, "retenir"), R(DECIDE, "attribue les"), R(DECIDE, "répartis les"),
	R(DECIDE, "desped*"), R(DECIDE, "despido*"), R(DECIDE, "contratar"), R(DECIDE, "contratemos"),
	R(DECIDE, "ascender"), R(DECIDE, "ordena"), R(DECIDE, "ordenar"), R(DECIDE, "seleccion*"),
	R(DECIDE, "rechaz*"),
	R(DECIDE, "asigna los turnos"),
	R(DECIDE, "licenzi*"), R(DECIDE, "assumere"), R(DECIDE, "promuover*"), R(DECIDE, "promuovi"),
	R(DECIDE, "chi promuovere"), R(DECIDE, "selezion*"), R(DECIDE, "scart*"),
	R(DECIDE, "assegna i turni"), R(DECIDE, "classifica"),

	/* the people those decisions are about */
	R(PERSONNEL, "applicant*"), R(PERSONNEL, "candidate*"), R(PERSONNEL, "employee*"), R(PERSONNEL, "staff"),
	R(PERSONNEL, "worker*"), R(PERSONNEL, "team member*"), R(PERSONNEL, "personnel"), R(PERSONNEL, "cv"),
	R(PERSONNEL, "cvs"), R(PERSONNEL, "resumes"), R(PERSONNEL, "direct reports"), R(PERSONNEL, "interns"),
	R(PERSONNEL, "team"), R(PERSONNEL, "reps"), R(PERSONNEL, "appraisal*"), R(PERSONNEL, "fahrer*"), R(PERSONNEL, "wer von unseren"), R(PERSONNEL, "desempeño"), R(PERSONNEL, "empleada"), R(PERSONNEL, "internal candidates"), R(PERSONNEL, "seasonal workers"), R(PERSONNEL, "caissi*"), R(PERSONNEL, "becari*"), R(PERSONNEL, "magazzinier*"), R(PERSONNEL, "cashier*"), R(PERSONNEL, "kassierer*"), R(PERSONNEL, "cajer*"), R(PERSONNEL, "cassier*"), R(PERSONNEL, "trainee*"), R(PERSONNEL, "stagiaire*"), R(PERSONNEL, "stagist*"), R(PERSONNEL, "azubi*"), R(PERSONNEL, "praktikant*"), R(PERSONNEL, "performance review*"), R(PERSONNEL, "beurteilung*"), R(PERSONNEL, "engineer*"), R(PERSONNEL, "developer*"), R(PERSONNEL, "programmer*"), R(PERSONNEL, "nurses"), R(PERSONNEL, "technician*"), R(PERSONNEL, "accountant*"), R(PERSONNEL, "entwickler*"), R(PERSONNEL, "ingenieur*"), R(PERSONNEL, "techniker*"), R(PERSONNEL, "buchhalter*"), R(PERSONNEL, "pflegekr*"), R(PERSONNEL, "ingénieur*"), R(PERSONNEL, "développeur*"), R(PERSONNEL, "technicien*"), R(PERSONNEL, "infirmi*"), R(PERSONNEL, "ingenier*"), R(PERSONNEL, "desarrollador*"), R(PERSONNEL, "técnicos"), R(PERSONNEL, "enfermer*"), R(PERSONNEL, "ingegner*"), R(PERSONNEL, "sviluppator*"), R(PERSONNEL, "tecnici"), R(PERSONNEL, "infermier*"), R(PERSONNEL, "salespeople"), R(PERSONNEL, "team lead*"), R(PERSONNEL, "who should"), R(PERSONNEL, "which of them"), R(PERSONNEL, "teamleiter*"), R(PERSONNEL, "abteilungsleiter*"), R(PERSONNEL, "außendienst*"), R(PERSONNEL, "wen sollen"), R(PERSONNEL, "wem sollen"), R(PERSONNEL, "wen wir"), R(PERSONNEL, "wem wir"), R(PERSONNEL, "commerciaux"), R(PERSONNEL, "vendeurs"), R(PERSONNEL, "chefs d équipe"), R(PERSONNEL, "qui devrions"), R(PERSONNEL, "lequel de ces"), R(PERSONNEL, "lesquels"), R(PERSONNEL, "comerciales"), R(PERSONNEL, "vendedores"), R(PERSONNEL, "jefe*"), R(PERSONNEL, "a quién"), R(PERSONNEL, "cuál de estos"), R(PERSONNEL, "agenti"), R(PERSONNEL, "venditori"), R(PERSONNEL, "capisquadra"), R(PERSONNEL, "capo"), R(PERSONNEL, "capi"), R(PERSONNEL, "chi dovremmo"), R(PERSONNEL, "quale di questi"),
	R(PERSONNEL, "bewerber*"), R(PERSONNEL, "kandidat*"), R(PERSONNEL, "mitarbeit*"),
	R(PERSONNEL, "beschäftigt*"), R(PERSONNEL, "angestellt*"), R(PERSONNEL, "arbeitnehmer*"),
	R(PERSONNEL, "belegschaft*"), R(PERSONNEL, "lebensl*"), R(PERSONNEL, "bewerbung*"),
	R(PERSONNEL, "candidat*"), R(PERSONNEL, "employé*"), R(PERSONNEL, "salarié*"),
	R(PERSONNEL, "collaborat*"), R(PERSONNEL, "équipe"),
	R(PERSONNEL, "emplead*"), R(PERSONNEL, "trabajador*"), R(PERSONNEL, "aspirante*"),
	R(PERSONNEL, "plantilla"), R(PERSONNEL, "currícul*"), R(PERSONNEL, "curricul*"),
	R(PERSONNEL, "dipendent*"), R(PERSONNEL, "lavorator*"), R(PERSONNEL, "personale"),

	/* decisions about things, not people */
	R(THING, "laptop*"), R(THING, "lieferwagen*"), R(THING, "fahrzeug*"), R(THING, "vehicle*"), R(THING, "véhicule*"), R(THING, "vehículo*"), R(THING, "veicol*"), R(THING, "furgon*"), R(THING, "notebook*"), R(THING, "computer*"), R(THING, "product"), R(THING, "products"),
	R(THING, "supplier*"), R(THING, "vendor*"), R(THING, "offer"), R(THING, "offers"), R(THING, "ticket*"),
	R(THING, "restaurant*"), R(THING, "hotel*"), R(THING, "tools"), R(THING, "software"),
	R(THING, "lieferant*"), R(THING, "produkt"), R(THING, "produkte"), R(THING, "produkten"), R(THING, "angebot*"), R(THING, "geräte*"),
	R(THING, "fournisseur*"), R(THING, "ordinateur*"), R(THING, "produit*"), R(THING, "offre*"),
	R(THING, "proveedor*"), R(THING, "portátil*"), R(THING, "ordenador*"), R(THING, "producto*"),
	R(THING, "oferta*"), R(THING, "fornitor*"), R(THING, "portatil*"), R(THING, "prodott*"),
	R(THING, "offert*"),

	/* the law about it */
	R(LEGAL, "law"), R(LEGAL, "legal*"), R(LEGAL, "labour law"), R(LEGAL, "regulation*"),
	R(LEGAL, "notice period*"), R(LEGAL, "template"), R(LEGAL, "job ad"), R(LEGAL, "job ads"), R(LEGAL, "job posting"),
	R(LEGAL, "arbeitsrecht*"), R(LEGAL, "gesetz*"), R(LEGAL, "kündigungsfrist*"),
	R(LEGAL, "kündigungsschutz*"), R(LEGAL, "rechtlich*"), R(LEGAL, "stellenanzeige*"), R(LEGAL, "vorlage"),
	R(LEGAL, "droit"), R(LEGAL, "légal*"), R(LEGAL, "code du travail"), R(LEGAL, "procédure*"),
	R(LEGAL, "juridi*"), R(LEGAL, "offre d emploi"), R(LEGAL, "modèle"),
	R(LEGAL, "ley"), R(LEGAL, "leyes"), R(LEGAL, "normativa*"), R(LEGAL, "jurídic*"),
	R(LEGAL, "estatuto"), R(LEGAL, "plantilla de"), R(LEGAL, "oferta de empleo"),
	R(LEGAL, "legge"), R(LEGAL, "normativ*"), R(LEGAL, "giusta causa"), R(LEGAL, "giuridic*"),
	R(LEGAL, "regole"), R(LEGAL, "annuncio di lavoro"), R(LEGAL, "modello"),
};

#undef R

/* ---- words ---- */

#define AIACT_WORD_MAX 32   /* bytes of a folded word kept for matching */
#define AIACT_PHRASE_MAX 4  /* words of a row */
#define AIACT_KEY_LEN 4     /* hash key: the first bytes of a word */
#define AIACT_NEG_WINDOW 3  /* words before an occurrence a negation reaches */
#define AIACT_RING 8        /* >= AIACT_PHRASE_MAX + AIACT_NEG_WINDOW */
#define AIACT_BUCKET_BITS 13
#define AIACT_BUCKETS (1u << AIACT_BUCKET_BITS) /* most words land in an empty bucket */
#define AIACT_NONE 0xFFFFu

/* byte_class values below any folded letter or digit ('0' is 48) */
enum aiact_class {
	AIACT_CLASS_SEPARATOR,
	AIACT_CLASS_SENTENCE,
	AIACT_CLASS_SLOW,
};

struct aiact_entry {
	uint8_t feature;
	uint8_t n_words;
	uint8_t prefix_mask;                  /* bit i: word i is a prefix */
	uint8_t len[AIACT_PHRASE_MAX];
	char word[AIACT_PHRASE_MAX][AIACT_WORD_MAX];
	uint16_t next;                        /* chain in the bucket */
	uint32_t key;                         /* the last word's first bytes (aiact_key) */
	uint32_t key_before;                  /* the word before it (two words or more) */
};

struct aiact_model {
	struct aiact_entry *entries;
	size_t n_entries;
	uint16_t bucket[AIACT_BUCKETS];
	/* Per bucket, what a word must bring for any of its rows to match:
	 * bit AIACT_SINGLE when a row is one word, else the bit
	 * aiact_before_bit of a phrase row's word before the last. A word
	 * whose bucket has neither its previous word's bit nor AIACT_SINGLE
	 * can match no row there (a superset test: bits may collide). */
	uint32_t need[AIACT_BUCKETS];
	/* Every byte value: the folded ASCII letter or digit, 0 for a
	 * separator, 1 for a separator that ends a sentence, 2 for a byte
	 * >= 0x80 that aiact_fold_char must read (the hot path of
	 * aiact_scan_feed: one load per byte, no range test). */
	uint8_t byte_class[256];
};

/* Latin-1 Supplement letters U+00C0..U+00FF folded to ASCII ("" separates
 * words: the multiplication and division signs). */
static const char *const aiact_fold_latin1[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
};

/* What one byte sequence at s[0..len) is: a word's bytes in out (folded,
 * *n of them), a separator (*n = 0, returns consumed), and whether it ends
 * a sentence. Returns the number of bytes consumed (>= 1). */
static size_t aiact_fold_char(const unsigned char *s, size_t len, char out[2], size_t *n, int *sentence_end)
{
	unsigned char c = s[0];
	*sentence_end = 0;
	*n = 0;
	if (c < 0x80) {
		if (c >= 'A' && c <= 'Z') {
			out[0] = (char)(c + 32);
			*n = 1;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			out[0] = (char)c;
			*n = 1;
		} else if (c == '.' || c == '!' || c == '?' || c == ';' || c == '\n') {
			*sentence_end = 1;
		}
		return 1;
	}
	if (c == 0xC3 && len >= 2 && s[1] >= 0x80 && s[1] <= 0xBF) {
		const char *f = aiact_fold_latin1[s[1] - 0x80];
		*n = strlen(f);
		memcpy(out, f, *n);
		return 2;
	}
	if (c == 0xC5 && len >= 2 && (s[1] == 0x92 || s[1] == 0x93)) { /* Œ œ */
		memcpy(out, "oe", 2);
		*n = 2;
		return 2;
	}
	if (c == 0xC2 && len >= 2) /* NBSP, guillemets, inverted ! and ?: separators */
		return 2;
	if (c == 0xE2 && len >= 3 && s[1] == 0x80) /* quotes, dashes, ellipsis */
		return 3;
	/* Any other byte belongs to a word but matches no row. */
	out[0] = (char)c;
	*n = 1;
	return 1;
}

/* Folds a row's word (accents written in the table) into out. */
static size_t aiact_fold_word(const char *w, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		char f[2];
		size_t n;
		int se;
		i += aiact_fold_char((const unsigned char *)w + i, len - i, f, &n, &se);
		for (size_t k = 0; k < n && o < cap; k++)
			out[o++] = f[k];
	}
	return o;
}

/* The first AIACT_KEY_LEN bytes of a word, zero-padded, as one integer:
 * rows are rejected on it before any byte compare. */
static uint32_t aiact_key(const char *w, size_t len)
{
	uint32_t k = 0;
	for (size_t i = 0; i < AIACT_KEY_LEN; i++)
		k = k << 8 | (i < len ? (unsigned char)w[i] : 0u);
	return k;
}

/* Fibonacci hashing of the key (Knuth, TAOCP vol. 3, 6.4). */
static unsigned aiact_hash(uint32_t key)
{
	return (unsigned)((key * 2654435769u) >> (32 - AIACT_BUCKET_BITS));
}

#define AIACT_SINGLE (UINT32_C(1) << 31)

/* A word-before key's bit in a bucket's need (another multiplier than
 * aiact_hash's, Knuth's 2^32/phi's neighbour 0x85EBCA6B from MurmurHash3's
 * finalizer): five bits, 0..31 (31 shares AIACT_SINGLE's bit). */
static inline uint32_t aiact_before_bit(uint32_t key)
{
	return UINT32_C(1) << ((key * 0x85EBCA6Bu) >> 27);
}

static int aiact_model_add(struct aiact_model *m, const struct aiact_row *row, char *err, size_t errlen)
{
	struct aiact_entry *e = &m->entries[m->n_entries];
	memset(e, 0, sizeof(*e));
	e->feature = (uint8_t)row->feature;
	const char *p = row->words;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *q = p;
		while (*q && *q != ' ')
			q++;
		if (e->n_words == AIACT_PHRASE_MAX) {
			snprintf(err, errlen, "lexicon row \"%s\": more than %d words", row->words, AIACT_PHRASE_MAX);
			return -1;
		}
		size_t len = (size_t)(q - p);
		int prefix = len > 0 && p[len - 1] == '*';
		if (prefix)
			len--;
		char folded[AIACT_WORD_MAX * 2];
		size_t fl = aiact_fold_word(p, len, folded, sizeof folded);
		/* Apostrophes and hyphens in a row would split words at run time. */
		for (size_t i = 0; i < fl; i++)
			if (!((folded[i] >= 'a' && folded[i] <= 'z') || (folded[i] >= '0' && folded[i] <= '9'))) {
				snprintf(err, errlen, "lexicon row \"%s\": a word holds a separator", row->words);
				return -1;
			}
		if (fl == 0 || fl > AIACT_WORD_MAX || (prefix && fl < AIACT_KEY_LEN)) {
			snprintf(err, errlen, "lexicon row \"%s\": a word must have 1 to %d letters, a stem at least %d",
				 row->words, AIACT_WORD_MAX, AIACT_KEY_LEN);
			return -1;
		}
		memcpy(e->word[e->n_words], folded, fl);
		e->len[e->n_words] = (uint8_t)fl;
		if (prefix)
			e->prefix_mask |= (uint8_t)(1u << e->n_words);
		e->n_words++;
		p = q;
	}
	if (e->n_words == 0 || (row->feature == AIACT_FEATURE_NEGATION && e->n_words != 1)) {
		snprintf(err, errlen, "lexicon row %zu: empty, or a negation of more than one word", m->n_entries);
		return -1;
	}
	unsigned last = e->n_words - 1u;
	e->key = aiact_key(e->word[last], e->len[last]);
	if (last > 0)
		e->key_before = aiact_key(e->word[last - 1], e->len[last - 1]);
	unsigned b = aiact_hash(e->key);
	m->need[b] |= last > 0 ? aiact_before_bit(e->key_before) : AIACT_SINGLE;
	e->next = m->bucket[b];
	m->bucket[b] = (uint16_t)m->n_entries;
	m->n_entries++;
	return 0;
}

struct aiact_model *aiact_model_new(char *err, size_t errlen)
{
	size_t n = sizeof aiact_rows / sizeof aiact_rows[0];
	_Static_assert(sizeof aiact_rows / sizeof aiact_rows[0] < AIACT_NONE, "entry indices are 16 bits");
	struct aiact_model *m = calloc(1, sizeof(*m));
	if (!m || !(m->entries = calloc(n, sizeof(*m->entries)))) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < AIACT_BUCKETS; i++)
		m->bucket[i] = AIACT_NONE;
	for (unsigned c = 0; c < 256; c++) {
		unsigned char b = (unsigned char)c;
		char f[2];
		size_t fn;
		int se;
		if (c >= 0x80) {
			m->byte_class[c] = AIACT_CLASS_SLOW;
			continue;
		}
		aiact_fold_char(&b, 1, f, &fn, &se);
		m->byte_class[c] = fn ? (uint8_t)f[0] : (uint8_t)(se ? AIACT_CLASS_SENTENCE : AIACT_CLASS_SEPARATOR);
	}
	for (size_t i = 0; i < n; i++)
		if (aiact_model_add(m, &aiact_rows[i], err, errlen) < 0) {
			aiact_model_free(m);
			return NULL;
		}
	return m;
}

void aiact_model_free(struct aiact_model *m)
{
	if (!m)
		return;
	free(m->entries);
	free(m);
}

/* ---- screening ---- */

struct aiact_word {
	uint32_t start, end;  /* bytes in the part */
	unsigned sentence;
	uint8_t len;
	uint8_t negation;
	uint32_t key;         /* aiact_key of the word, set when it ends */
	char text[AIACT_WORD_MAX]; /* bytes from len on are stale */
};

struct aiact_occurrence {
	size_t part;
	uint32_t start, end;
};

/* State of one screening: the ring of recent words and the first
 * occurrence of each feature. Lives on the caller's stack. */
struct aiact_scan {
	const struct aiact_model *m;
	struct aiact_word ring[AIACT_RING];
	size_t n_words;       /* words seen in the current part */
	unsigned sentence;
	uint64_t present;
	struct aiact_occurrence first[AIACT_FEATURE_COUNT];
};

/* The bits of the first n (1..7) bytes in memory of a 64-bit load. */
static uint64_t aiact_head_mask(size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return ~(~UINT64_C(0) >> (8 * n));
#else
	return (UINT64_C(1) << (8 * n)) - 1;
#endif
}

/* pat is a row's word (AIACT_WORD_MAX bytes, zero-padded), plen <=
 * AIACT_WORD_MAX: compared eight bytes at a time without a library call,
 * the bytes past plen masked off (the word's own are stale). */
static int aiact_word_matches(const char *pat, size_t plen, int prefix, const struct aiact_word *w)
{
	if (prefix ? w->len < plen : w->len != plen)
		return 0;
	_Static_assert(AIACT_WORD_MAX % 8 == 0, "words are compared in 8-byte steps");
	for (size_t i = 0; i < plen; i += 8) {
		uint64_t a, b;
		memcpy(&a, pat + i, 8);
		memcpy(&b, w->text + i, 8);
		uint64_t d = a ^ b;
		if (plen - i < 8)
			d &= aiact_head_mask(plen - i);
		if (d)
			return 0;
	}
	return 1;
}

/* Tests every row whose last word could be the newest word of the ring. */
static void aiact_scan_lookup(struct aiact_scan *s, size_t part, struct aiact_word *cur, uint32_t key,
			      unsigned b)
{
	const struct aiact_word *prev = s->n_words > 1 ? &s->ring[(s->n_words - 2) % AIACT_RING] : NULL;
	for (uint16_t ei = s->m->bucket[b]; ei != AIACT_NONE; ei = s->m->entries[ei].next) {
		const struct aiact_entry *e = &s->m->entries[ei];
		if (e->key != key || e->n_words > s->n_words)
			continue;
		/* a phrase: the word before must share its row word's key (a
		 * stem has AIACT_KEY_LEN bytes at least, so this never rejects
		 * a match), in the same sentence */
		if (e->n_words > 1 && (prev->key != e->key_before || prev->sentence != cur->sentence))
			continue;
		const struct aiact_word *first = NULL;
		int ok = 1;
		for (unsigned k = 0; k < e->n_words && ok; k++) {
			/* word e->n_words-1-k of the row against the k-th newest word */
			const struct aiact_word *w = &s->ring[(s->n_words - 1 - k) % AIACT_RING];
			unsigned wi = e->n_words - 1u - k;
			ok = w->sentence == cur->sentence &&
			     aiact_word_matches(e->word[wi], e->len[wi], (e->prefix_mask >> wi) & 1, w);
			first = w;
		}
		if (!ok)
			continue;
		if (e->feature == AIACT_FEATURE_NEGATION) {
			cur->negation = 1;
			continue;
		}
		/* A negation shortly before the occurrence (same sentence) voids it. */
		size_t before = s->n_words - e->n_words;
		int negated = 0;
		for (size_t k = 1; k <= AIACT_NEG_WINDOW && k <= before && !negated; k++) {
			const struct aiact_word *w = &s->ring[(before - k) % AIACT_RING];
			negated = w->sentence == cur->sentence && w->negation;
		}
		if (negated)
			continue;
		uint64_t bit = UINT64_C(1) << e->feature;
		if (!(s->present & bit)) {
			s->present |= bit;
			s->first[e->feature] = (struct aiact_occurrence){ part, first->start, cur->end };
		}
	}
}

/* A word has ended, its key given: the key is kept (the next word's
 * phrase rows compare it), and rows are looked up only when its bucket has
 * any (most words have none: no call) and, filtered, when one of them may
 * take this word (the bucket's need: a one-word row, or a phrase whose
 * word before has the previous word's bit; the function words "the",
 * "of", "a" end many phrases and are mostly passed over here). An empty
 * bucket's need is 0, so filtered the need alone rejects it: one load. */
static inline void aiact_scan_word_key(struct aiact_scan *s, size_t part, struct aiact_word *cur,
				       uint32_t key, int filtered)
{
	cur->key = key;
	unsigned b = aiact_hash(key);
	if (filtered) {
		uint32_t want = AIACT_SINGLE;
		if (s->n_words > 1)
			want |= aiact_before_bit(s->ring[(s->n_words - 2) % AIACT_RING].key);
		if (!(s->m->need[b] & want))
			return;
	} else if (s->m->bucket[b] == AIACT_NONE) {
		return;
	}
	aiact_scan_lookup(s, part, cur, key, b);
}

static inline void aiact_scan_word_at(struct aiact_scan *s, size_t part, int filtered)
{
	struct aiact_word *cur = &s->ring[(s->n_words - 1) % AIACT_RING];
	/* aiact_key of the first AIACT_KEY_LEN bytes, zero-padded */
	const unsigned char *ct = (const unsigned char *)cur->text;
	uint32_t key = (uint32_t)ct[0] << 24 | (uint32_t)ct[1] << 16 | (uint32_t)ct[2] << 8 | ct[3];
	if (cur->len < AIACT_KEY_LEN)
		key &= ~UINT32_C(0) << (8 * (AIACT_KEY_LEN - cur->len));
	aiact_scan_word_key(s, part, cur, key, filtered);
}

static inline void aiact_scan_word(struct aiact_scan *s, size_t part)
{
	aiact_scan_word_at(s, part, 1);
}

/* Appends the ASCII letters and digits src[0, n) to a word of wl bytes,
 * folded, up to AIACT_WORD_MAX; returns the new length. Letters and
 * digits all fold by setting bit 5 (0x20): 'A'-'Z' become 'a'-'z', and
 * 'a'-'z' and '0'-'9' have it set already. */
static inline size_t aiact_fold_run(char *text, size_t wl, const unsigned char *src, size_t n, size_t avail)
{
	if (n > AIACT_WORD_MAX - wl)
		n = AIACT_WORD_MAX - wl;
	if (wl == 0 && n <= 8 && avail >= 8) {
		/* the common word: one step */
		uint64_t x;
		memcpy(&x, src, 8);
		x |= UINT64_C(0x2020202020202020);
		memcpy(text, &x, 8);
		return n;
	}
	size_t k = 0;
	/* Whole eight-byte steps also past the run's end while the source
	 * (avail bytes from src) and the word's array have them: the bytes
	 * past the word's length are stale by definition. */
	for (; k < n && k + 8 <= avail && wl + k + 8 <= AIACT_WORD_MAX; k += 8) {
		uint64_t x;
		memcpy(&x, src + k, 8);
		x |= UINT64_C(0x2020202020202020);
		memcpy(text + wl + k, &x, 8);
	}
	for (; k < n; k++)
		text[wl + k] = (char)(src[k] | 0x20);
	return wl + n;
}

/* aiact_key's mask for a word of n (0..16) bytes: the bytes past n zeroed. */
static const uint32_t aiact_key_mask[17] = {
	0, 0xFF000000u, 0xFFFF0000u, 0xFFFFFF00u, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu,
	0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu,
};

/* Ring words are written before they are read (aiact_scan_word looks back
 * only over the words of the current part) and first[] only where present
 * has the bit: neither is zeroed here. */
static void aiact_scan_init(struct aiact_scan *s, const struct aiact_model *m)
{
	s->m = m;
	s->n_words = 0;
	s->sentence = 0;
	s->present = 0;
}

/* Feeds one instruction text, one byte class at a time, every word with
 * rows in its bucket looked up: the reference aiact_scan_feed must equal
 * (aiact_screen_reference, for the tests).
 * Offsets above 4 GiB are not representable in a finding: longer texts
 * are screened up to there. */
static void aiact_scan_feed_reference(struct aiact_scan *s, size_t part, const char *text, size_t len)
{
	const unsigned char *t = (const unsigned char *)text;
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	s->n_words = 0;
	s->sentence++;
	const uint8_t *cls = s->m->byte_class;
	struct aiact_word *w = NULL;
	size_t i = 0;
	while (i < len) {
		char f[2];
		size_t n;
		int se;
		size_t used = 1;
		uint8_t v = cls[t[i]];
		if (v > AIACT_CLASS_SLOW) {
			f[0] = (char)v;
			n = 1;
			se = 0;
		} else if (v == AIACT_CLASS_SLOW) {
			used = aiact_fold_char(t + i, len - i, f, &n, &se);
		} else {
			n = 0;
			se = v == AIACT_CLASS_SENTENCE;
		}
		if (n > 0) {
			if (!w) {
				w = &s->ring[s->n_words % AIACT_RING];
				w->start = (uint32_t)i;
				w->len = 0;
				w->negation = 0;
				w->sentence = s->sentence;
			}
			size_t wl = w->len;
			for (size_t k = 0; k < n && wl < AIACT_WORD_MAX; k++)
				w->text[wl++] = f[k];
			i += used;
			/* The rest of a run of ASCII letters and digits (most of
			 * most words): one table load per byte to find its end,
			 * then folded eight bytes at a time. */
			size_t run = i;
			while (run < len && cls[t[run]] > AIACT_CLASS_SLOW)
				run++;
			wl = aiact_fold_run(w->text, wl, t + i, run - i, len - i);
			i = run;
			w->len = (uint8_t)wl;
			w->end = (uint32_t)i;
			continue;
		}
		if (w) {
			s->n_words++;
			aiact_scan_word_at(s, part, 0);
			w = NULL;
		}
		if (se)
			s->sentence++;
		i += used;
	}
	if (w) {
		s->n_words++;
		aiact_scan_word_at(s, part, 0);
	}
}

/* The end of the run of ASCII letters and digits (byte classes above
 * AIACT_CLASS_SLOW: exactly those bytes) from t[i] on, before len:
 * sixteen bytes per step with SSE2 (signed compares: a byte >= 0x80 is
 * negative and none of them, so it ends the run as its class does). */
static inline size_t aiact_run_end(const unsigned char *t, size_t i, size_t len, const uint8_t *cls)
{
#if defined(__SSE2__)
	const __m128i a1 = _mm_set1_epi8('a' - 1), z1 = _mm_set1_epi8('z' + 1), d1 = _mm_set1_epi8('0' - 1),
		      d9 = _mm_set1_epi8('9' + 1), fold = _mm_set1_epi8(0x20);
	while (len - i >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
		__m128i low = _mm_or_si128(x, fold); /* 'A'-'Z' to 'a'-'z' */
		__m128i in = _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(low, a1), _mm_cmplt_epi8(low, z1)),
					  _mm_and_si128(_mm_cmpgt_epi8(x, d1), _mm_cmplt_epi8(x, d9)));
		unsigned out = ~(unsigned)_mm_movemask_epi8(in) & 0xFFFFu;
		if (out)
			return i + (size_t)__builtin_ctz(out);
		i += 16;
	}
	if (i < len && len >= 16) {
		/* the last sixteen bytes of the text, of which those from i on */
		size_t from = i - (len - 16);
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t + len - 16));
		__m128i low = _mm_or_si128(x, fold);
		__m128i in = _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(low, a1), _mm_cmplt_epi8(low, z1)),
					  _mm_and_si128(_mm_cmpgt_epi8(x, d1), _mm_cmplt_epi8(x, d9)));
		unsigned out = (~(unsigned)_mm_movemask_epi8(in) & 0xFFFFu) >> from | 1u << (16 - from);
		return i + (size_t)__builtin_ctz(out);
	}
#endif
	while (i < len && cls[t[i]] > AIACT_CLASS_SLOW)
		i++;
	return i;
}

/* Feeds one instruction text, as aiact_scan_feed_reference does: a run of
 * ASCII letters and digits, its first byte included, is found sixteen
 * bytes at a time and folded into the word at once; other bytes go
 * through their class and, above 0x7F, aiact_fold_char. */
static void aiact_scan_feed(struct aiact_scan *s, size_t part, const char *text, size_t len)
{
	const unsigned char *t = (const unsigned char *)text;
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	s->n_words = 0;
	s->sentence++;
	const uint8_t *cls = s->m->byte_class;
	struct aiact_word *w = NULL;
	size_t i = 0;
	while (i < len) {
		uint8_t v = cls[t[i]];
		if (v > AIACT_CLASS_SLOW) {
#if defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			if (!w && len - i >= 16) {
				/* Sixteen bytes from the word's start in one load: its
				 * letters and digits (unsigned range tests as signed
				 * ones, letters on the byte with bit 5 set), its end
				 * the first other byte; folded, the same register is
				 * the word's text and its first four bytes its key.
				 * Taken when the word ends inside them at an ASCII
				 * byte (a separator, taken here too). */
				__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
				__m128i low = _mm_or_si128(x, _mm_set1_epi8(0x20));
				__m128i letter = _mm_cmplt_epi8(_mm_add_epi8(low, _mm_set1_epi8((char)(128 - 'a'))),
								_mm_set1_epi8((char)(26 - 128)));
				__m128i digit = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8((char)(128 - '0'))),
							       _mm_set1_epi8((char)(10 - 128)));
				unsigned other = ~(unsigned)_mm_movemask_epi8(_mm_or_si128(letter, digit)) & 0xFFFFu;
				size_t n = (size_t)__builtin_ctz(other | 0x10000u);
				if (n < 16 && cls[t[i + n]] < AIACT_CLASS_SLOW) {
					w = &s->ring[s->n_words % AIACT_RING];
					_mm_storeu_si128((__m128i *)(void *)w->text, low);
					w->start = (uint32_t)i;
					w->end = (uint32_t)(i + n);
					w->len = (uint8_t)n;
					w->negation = 0;
					w->sentence = s->sentence;
					s->n_words++;
					uint32_t head = (uint32_t)_mm_cvtsi128_si32(low);
					aiact_scan_word_key(s, part, w, __builtin_bswap32(head) & aiact_key_mask[n], 1);
					w = NULL;
					i += n;
					s->sentence += cls[t[i]] == AIACT_CLASS_SENTENCE;
					i++;
					continue;
				}
			}
#endif
			size_t run = aiact_run_end(t, i + 1, len, cls);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			if (!w && run - i <= 16 && len >= 8 && (run == len || cls[t[run]] < AIACT_CLASS_SLOW)) {
				/* The common word: ASCII letters and digits only, at
				 * most sixteen of them, ended by an ASCII byte or the
				 * text: two loads fold it (at the text's end the last
				 * eight bytes, shifted down: the bytes past the word
				 * are stale by definition), its key is the first
				 * load's first bytes (byte-swapped: aiact_key is
				 * big-end first), and the separator after it is
				 * taken here. */
				size_t avail = len - i;
				uint64_t x, x1 = 0;
				if (avail >= 16) {
					memcpy(&x, t + i, 8);
					memcpy(&x1, t + i + 8, 8);
				} else if (avail >= 8) {
					memcpy(&x, t + i, 8);
					if (avail > 8) {
						memcpy(&x1, t + len - 8, 8);
						x1 >>= 8 * (16 - avail);
					}
				} else {
					memcpy(&x, t + len - 8, 8);
					x >>= 8 * (8 - avail);
				}
				x |= UINT64_C(0x2020202020202020);
				x1 |= UINT64_C(0x2020202020202020);
				w = &s->ring[s->n_words % AIACT_RING];
				memcpy(w->text, &x, 8);
				memcpy(w->text + 8, &x1, 8);
				w->start = (uint32_t)i;
				w->end = (uint32_t)run;
				w->len = (uint8_t)(run - i);
				w->negation = 0;
				w->sentence = s->sentence;
				s->n_words++;
				aiact_scan_word_key(s, part, w, __builtin_bswap32((uint32_t)x) & aiact_key_mask[run - i], 1);
				w = NULL;
				i = run;
				if (i < len) {
					s->sentence += cls[t[i]] == AIACT_CLASS_SENTENCE;
					i++;
				}
				continue;
			}
#endif
			if (!w) {
				w = &s->ring[s->n_words % AIACT_RING];
				w->start = (uint32_t)i;
				w->len = 0;
				w->negation = 0;
				w->sentence = s->sentence;
			}
			w->len = (uint8_t)aiact_fold_run(w->text, w->len, t + i, run - i, len - i);
			w->end = (uint32_t)run;
			i = run;
			continue;
		}
		char f[2];
		size_t n = 0;
		int se = v == AIACT_CLASS_SENTENCE;
		size_t used = 1;
		if (v == AIACT_CLASS_SLOW)
			used = aiact_fold_char(t + i, len - i, f, &n, &se);
		if (n > 0) {
			if (!w) {
				w = &s->ring[s->n_words % AIACT_RING];
				w->start = (uint32_t)i;
				w->len = 0;
				w->negation = 0;
				w->sentence = s->sentence;
			}
			size_t wl = w->len;
			for (size_t k = 0; k < n && wl < AIACT_WORD_MAX; k++)
				w->text[wl++] = f[k];
			w->len = (uint8_t)wl;
			i += used;
			w->end = (uint32_t)i;
			continue;
		}
		if (w) {
			s->n_words++;
			aiact_scan_word(s, part);
			w = NULL;
		}
		if (se)
			s->sentence++;
		i += used;
	}
	if (w) {
		s->n_words++;
		aiact_scan_word(s, part);
	}
}

static void aiact_scan_finish(struct aiact_scan *s, unsigned media, struct aiact_result *out)
{
	/* The ring held the last words of the prompt. */
	explicit_bzero(s->ring, sizeof s->ring);
	memset(out, 0, sizeof(*out));
	out->media = media;
	uint64_t present = s->present & ~(UINT64_C(1) << AIACT_FEATURE_NEGATION);
	/* An image, audio or video part is a biometric modality in itself. */
	if (media) {
		if (!(present & B(BIOMETRIC))) /* placed at 0 as before: first[] is not zeroed */
			s->first[AIACT_FEATURE_BIOMETRIC] = (struct aiact_occurrence){ 0, 0, 0 };
		present |= B(BIOMETRIC);
	}
	out->features = present;
	for (unsigned p = 0; p < AIACT_PRACTICE_COUNT; p++) {
		const struct aiact_rule *r = &aiact_rules[p];
		if ((present & r->all_of) != r->all_of || (present & r->none_of) ||
		    (r->any_of && !(present & r->any_of)))
			continue;
		unsigned a = r->anchor;
		if (!(present >> a & 1))
			for (a = 0; a < AIACT_FEATURE_COUNT && !((present & r->any_of) >> a & 1); a++)
				;
		const struct aiact_occurrence *o = &s->first[a];
		out->hits[p] = (struct aiact_hit){ 1, o->part, o->start, o->end };
	}
}

void aiact_screen(const struct aiact_model *m, const struct aiact_text *texts, size_t n,
		  unsigned media, struct aiact_result *out)
{
	struct aiact_scan s;
	aiact_scan_init(&s, m);
	for (size_t i = 0; i < n; i++)
		if (texts[i].text)
			aiact_scan_feed(&s, i, texts[i].text, texts[i].len);
	aiact_scan_finish(&s, media, out);
}

void aiact_screen_reference(const struct aiact_model *m, const struct aiact_text *texts, size_t n,
			    unsigned media, struct aiact_result *out)
{
	struct aiact_scan s;
	aiact_scan_init(&s, m);
	for (size_t i = 0; i < n; i++)
		if (texts[i].text)
			aiact_scan_feed_reference(&s, i, texts[i].text, texts[i].len);
	aiact_scan_finish(&s, media, out);
}

/* ---- OpenAI request bodies ---- */

struct aiact_part_type {
	const char *type;
	size_t len;
	unsigned media; /* 0: a text part */
};

#define AIACT_NAME(s) s, sizeof(s) - 1

/* Content part types (Chat Completions and Responses API). */
static const struct aiact_part_type aiact_part_types[] = {
	{ AIACT_NAME("text"), 0 }, { AIACT_NAME("input_text"), 0 },
	{ AIACT_NAME("image_url"), AIACT_MEDIA_IMAGE }, { AIACT_NAME("input_image"), AIACT_MEDIA_IMAGE },
	{ AIACT_NAME("image"), AIACT_MEDIA_IMAGE },
	{ AIACT_NAME("input_audio"), AIACT_MEDIA_AUDIO }, { AIACT_NAME("audio"), AIACT_MEDIA_AUDIO },
	{ AIACT_NAME("audio_url"), AIACT_MEDIA_AUDIO },
	{ AIACT_NAME("video_url"), AIACT_MEDIA_VIDEO }, { AIACT_NAME("input_video"), AIACT_MEDIA_VIDEO },
	{ AIACT_NAME("video"), AIACT_MEDIA_VIDEO },
	{ NULL, 0, 0 },
};

/* Roles whose text is an instruction to the model; a message without a
 * role (Responses API input items) counts too. */
static const struct aiact_role {
	const char *role;
	size_t len;
} aiact_instruction_roles[] = {
	{ AIACT_NAME("system") }, { AIACT_NAME("developer") }, { AIACT_NAME("user") }, { NULL, 0 },
};

#undef AIACT_NAME

/* The length first (most names differ in it), then the bytes in place:
 * the names are a dozen bytes at most, shorter than a library call's
 * setup. */
static int aiact_name_is(const char *name, size_t nlen, const char *s, size_t len)
{
	if (len != nlen)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (name[i] != s[i])
			return 0;
	return 1;
}

int aiact_role_instruction(const char *role, size_t len)
{
	for (const struct aiact_role *r = aiact_instruction_roles; r->role; r++)
		if (aiact_name_is(r->role, r->len, role, len))
			return 1;
	return 0;
}

int aiact_part_kind(const char *type, size_t len)
{
	for (const struct aiact_part_type *t = aiact_part_types; t->type; t++)
		if (aiact_name_is(t->type, t->len, type, len))
			return (int)t->media;
	return -1;
}

struct aiact_request {
	struct aiact_scan scan;
	json_t *const *fields;
	size_t n_fields;
	size_t cursor;  /* the walk finds fields in body order: search from here */
	unsigned media;
};

static void aiact_request_text(struct aiact_request *q, json_t *s)
{
	if (!json_is_string(s))
		return;
	for (size_t k = 0; k < q->n_fields; k++) {
		size_t i = (q->cursor + k) % q->n_fields;
		if (q->fields[i] == s) {
			q->cursor = i + 1;
			aiact_scan_feed(&q->scan, i, json_string_value(s), json_string_length(s));
			return;
		}
	}
}

static void aiact_request_content(struct aiact_request *q, json_t *content)
{
	if (json_is_string(content)) {
		aiact_request_text(q, content);
		return;
	}
	if (!json_is_array(content))
		return;
	size_t i;
	json_t *part;
	json_array_foreach(content, i, part) {
		if (json_is_string(part)) {
			aiact_request_text(q, part);
			continue;
		}
		const char *type = json_string_value(json_object_get(part, "type"));
		if (!type)
			continue;
		/* up to a NUL, as the value reads in C */
		int kind = aiact_part_kind(type, strlen(type));
		if (kind > 0)
			q->media |= (unsigned)kind;
		else if (kind == 0)
			aiact_request_text(q, json_object_get(part, "text"));
	}
}

static void aiact_request_messages(struct aiact_request *q, json_t *msgs)
{
	size_t i;
	json_t *msg;
	json_array_foreach(msgs, i, msg) {
		if (json_is_string(msg)) {
			aiact_request_text(q, msg);
			continue;
		}
		if (!json_is_object(msg))
			continue;
		const char *role = json_string_value(json_object_get(msg, "role"));
		int instruction = role == NULL || aiact_role_instruction(role, strlen(role));
		if (instruction)
			aiact_request_content(q, json_object_get(msg, "content"));
	}
}

void aiact_screen_request(const struct aiact_model *m, json_t *body, json_t *const *fields,
			  size_t n_fields, struct aiact_result *out)
{
	struct aiact_request q = { .fields = fields, .n_fields = n_fields };
	aiact_scan_init(&q.scan, m);
	if (json_is_object(body)) {
		json_t *msgs = json_object_get(body, "messages");
		if (json_is_array(msgs))
			aiact_request_messages(&q, msgs);
		static const char *const keys[] = { "prompt", "input" };
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
			json_t *v = json_object_get(body, keys[k]);
			if (json_is_array(v))
				aiact_request_messages(&q, v);
			else
				aiact_request_text(&q, v);
		}
	}
	aiact_scan_finish(&q.scan, q.media, out);
}

/* ---- names ---- */

const char *aiact_practice_rule_id(enum aiact_practice p)
{
	return (unsigned)p < AIACT_PRACTICE_COUNT ? aiact_rules[p].rule_id : NULL;
}

const char *aiact_practice_article(enum aiact_practice p)
{
	return (unsigned)p < AIACT_PRACTICE_COUNT ? aiact_rules[p].article : NULL;
}

unsigned aiact_practice_entity(enum aiact_practice p)
{
	return (unsigned)p < AIACT_PRACTICE_COUNT ? aiact_rules[p].entity : ENTITY_BUILTIN_COUNT;
}

const char *aiact_entity_article(unsigned entity)
{
	for (unsigned p = 0; p < AIACT_PRACTICE_COUNT; p++)
		if (aiact_rules[p].entity == entity)
			return aiact_rules[p].article;
	return NULL;
}

const char *aiact_feature_name(unsigned i)
{
	return i < AIACT_FEATURE_COUNT ? aiact_feature_names[i] : NULL;
}
