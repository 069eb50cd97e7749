/* Secrets: private keys, tokens with a vendor prefix, credentials in URLs and
 * connection strings, password= / secret: assignments.
 *
 * Every rule is triggered by a literal prefix in the shared automaton (the
 * way gitleaks and Nosey Parker prefilter) and then checked exactly here:
 * charset, length, structure (JWT header is JSON with "alg") and, for the
 * generic assignments, Shannon entropy.
 *
 * Placeholders are not secrets (decision, see the corpus near-misses):
 * values such as "changeme", "<password>", "${DB_PASS}", "{{ token }}",
 * "********", "xxxx", the vendor's documentation examples (AWS
 * "...EXAMPLE") and values equal to the key name are rejected, because
 * flagging them trains users to ignore the gateway and blocks harmless
 * configuration questions. Real weak passwords ("Sommer2024!") still count. */
#include "policies/detector.h"
#include "policies/entity.h"
#include "policies/scan.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#define KT (DETECTOR_KW_TRIGGER)
#define KC (DETECTOR_KW_TRIGGER | DETECTOR_KW_CASE)

/* Character sets of token bodies. */
enum secret_charset {
	SECRET_CHARSET_ALNUM,       /* A-Za-z0-9 */
	SECRET_CHARSET_B64URL,      /* A-Za-z0-9 _ - */
	SECRET_CHARSET_B64,         /* A-Za-z0-9 + / (= padding handled apart) */
	SECRET_CHARSET_UPPER32,     /* A-Z 2-7 (AWS key ids) */
	SECRET_CHARSET_ALNUM_US,    /* A-Za-z0-9 _ */
};

static int secret_in_charset(unsigned char c, enum secret_charset cs)
{
	int alnum = scan_is(c, SCAN_BYTE_ALNUM);
	switch (cs) {
	case SECRET_CHARSET_ALNUM:    return alnum;
	case SECRET_CHARSET_B64URL:   return alnum || c == '_' || c == '-';
	case SECRET_CHARSET_B64:      return alnum || c == '+' || c == '/';
	case SECRET_CHARSET_UPPER32:  return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
	case SECRET_CHARSET_ALNUM_US: return alnum || c == '_';
	}
	return 0;
}

/* Length of the run of cs bytes starting at p, counted up to cap + 1 at
 * most: a trigger never reads further than its longest possible match, so
 * adversarial chains ("xoxb-xoxb-xoxb-...") keep the scan linear. */
static size_t secret_run(const char *text, size_t len, size_t p, enum secret_charset cs,
			 size_t cap)
{
	size_t i = p;
	while (i < len && i - p <= cap && secret_in_charset((unsigned char)text[i], cs))
		i++;
	return i - p;
}

/* Shannon entropy in bits per byte of s[0..n). */
static double secret_entropy(const char *s, size_t n)
{
	unsigned cnt[256] = { 0 };
	double h = 0.0;
	if (n == 0)
		return 0.0;
	for (size_t i = 0; i < n; i++)
		cnt[(unsigned char)s[i]]++;
	for (unsigned i = 0; i < 256; i++) {
		if (cnt[i] == 0)
			continue;
		double p = (double)cnt[i] / (double)n;
		h -= p * log2(p);
	}
	return h;
}

static int secret_has_class_mix(const char *s, size_t n)
{
	int d = 0, u = 0, l = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		d |= scan_is(c, SCAN_BYTE_DIGIT);
		u |= scan_is(c, SCAN_BYTE_UPPER);
		l |= scan_is(c, SCAN_BYTE_LOWER);
	}
	return d + u + l >= 2;
}

static int secret_ci_contains(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp(s + i, needle, m) == 0)
			return 1;
	return 0;
}

/* Words that mark a value as a placeholder wherever they occur in it. */
static const char *const secret_placeholder_words[] = {
	"changeme", "change_me", "change-me", "example", "placeholder", "dummy",
	"redacted", "your_", "your-", "yourpass", "<", ">", "${", "{{", "%(", "$(",
	"xxxx", "****", "....", "insert", "replace", "todo", "secret_here",
	"password_here", "passwort_hier", "getenv", "environ", "process.env",
	NULL
};

/* Whole values that are placeholders. */
static const char *const secret_placeholder_values[] = {
	"password", "passwort", "kennwort", "secret", "token", "null", "none",
	"nil", "undefined", "true", "false", "test", "testing", "sample", "pass",
	"admin", "root", "user", "hidden", "empty", "geheim", "motdepasse",
	"contrasena", "required", "optional", "string", "value",
	NULL
};

static int secret_is_placeholder(const char *s, size_t n)
{
	for (size_t i = 0; secret_placeholder_words[i]; i++)
		if (secret_ci_contains(s, n, secret_placeholder_words[i]))
			return 1;
	for (size_t i = 0; secret_placeholder_values[i]; i++)
		if (strlen(secret_placeholder_values[i]) == n &&
		    strncasecmp(s, secret_placeholder_values[i], n) == 0)
			return 1;
	/* one repeated byte: "aaaaaaa", "0000000" */
	size_t k = 1;
	while (k < n && s[k] == s[0])
		k++;
	return n > 0 && k == n;
}

static int secret_word_byte(const char *text, size_t len, size_t i)
{
	return i < len && scan_is((unsigned char)text[i], SCAN_BYTE_WORD);
}

/* ---- vendor-prefixed tokens: one table row each ---- */

/* prefix (matched by the automaton, rechecked here for case), body charset
 * and length range; the token ends where the charset ends and must not run
 * into a further word byte. */
struct secret_prefix_rule {
	enum secret_charset cs;
	uint16_t min, max;     /* body length after the keyword */
	uint8_t entropy_x10;   /* minimal entropy * 10 of the body, 0: none */
};

static int secret_match_prefixed(const struct scan_input *in,
				 const struct scan_trigger *t,
				 struct policy_findings *out)
{
	const struct secret_prefix_rule *r = in->det->arg;
	size_t body = t->end;
	size_t n = secret_run(in->text, in->len, body, r->cs, r->max);
	if (n < r->min)
		return 0;
	if (n > r->max)
		return 0;   /* a longer run is some other identifier */
	if (secret_word_byte(in->text, in->len, body + n))
		return 0;
	if (secret_is_placeholder(in->text + body, n))
		return 0;
	if (r->entropy_x10 &&
	    secret_entropy(in->text + body, n) * 10.0 < (double)r->entropy_x10)
		return 0;
	return scan_add_finding(out, in, t->start, body + n, 0);
}

/* AWS access key ids: AKIA (long-term) / ASIA (STS) + 16 of [A-Z2-7].
 * The documentation's AKIAIOSFODNN7EXAMPLE is rejected by the placeholder
 * check ("example"). */
static const struct secret_prefix_rule secret_rule_aws = { SECRET_CHARSET_UPPER32, 16, 16, 25 };
static const struct detector_keyword secret_kw_aws[] = {
	{ "AKIA", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ "ASIA", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ NULL, 0, 0 }
};

/* GitHub: ghp_/gho_/ghu_/ghs_/ghr_ + 36 base62 (30 random + 6 checksum);
 * fine-grained github_pat_ + 82 of [A-Za-z0-9_]. */
static const struct secret_prefix_rule secret_rule_github = { SECRET_CHARSET_ALNUM, 36, 36, 35 };
static const struct detector_keyword secret_kw_github[] = {
	{ "ghp_", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ "gho_", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ "ghu_", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ "ghs_", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ "ghr_", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ NULL, 0, 0 }
};
static const struct secret_prefix_rule secret_rule_github_pat = { SECRET_CHARSET_ALNUM_US, 82, 82, 35 };
static const struct detector_keyword secret_kw_github_pat[] = {
	{ "github_pat_", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ NULL, 0, 0 }
};

/* GitLab personal access tokens: glpat- + 20 (older) or longer (routable
 * tokens, 2024) of [A-Za-z0-9_-]. */
static const struct secret_prefix_rule secret_rule_gitlab = { SECRET_CHARSET_B64URL, 20, 64, 30 };
static const struct detector_keyword secret_kw_gitlab[] = {
	{ "glpat-", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ NULL, 0, 0 }
};

/* Slack: xoxb- (bot), xoxp- (user), xoxa- / xoxr- (app, refresh), xoxs-;
 * body is digits and alnum groups joined by '-'. */
static const struct secret_prefix_rule secret_rule_slack = { SECRET_CHARSET_B64URL, 24, 255, 30 };
static const struct detector_keyword secret_kw_slack[] = {
	{ "xoxb-", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ "xoxp-", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ "xoxa-", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ "xoxr-", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ "xoxs-", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ NULL, 0, 0 }
};

/* OpenAI-style: sk- + 48 base62 (legacy), sk-proj- / sk-svcacct- /
 * sk-admin- + 40..200 of [A-Za-z0-9_-]. Many vendors (Anthropic sk-ant-,
 * DeepSeek) copy the shape, which is fine: it is a key either way. The
 * entropy floor keeps "sk-learn-..." style package names out. */
static const struct secret_prefix_rule secret_rule_openai = { SECRET_CHARSET_B64URL, 32, 220, 40 };
static const struct detector_keyword secret_kw_openai[] = {
	{ "sk-", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ NULL, 0, 0 }
};

/* Google API keys: AIza + 35 of [A-Za-z0-9_-]. */
static const struct secret_prefix_rule secret_rule_google = { SECRET_CHARSET_B64URL, 35, 35, 35 };
static const struct detector_keyword secret_kw_google[] = {
	{ "AIza", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ NULL, 0, 0 }
};

/* ---- private keys: the whole PEM block ---- */

static const struct detector_keyword secret_kw_pem[] = {
	{ "-----BEGIN ", KC, SCAN_CONTEXT_NONE },
	{ NULL, 0, 0 }
};

/* RFC 7468 labels: "-----BEGIN <label>-----"; private keys are the labels
 * ending in "PRIVATE KEY" (PKCS#8, RSA, EC, DSA, OPENSSH, ENCRYPTED) plus
 * PGP's "PGP PRIVATE KEY BLOCK". */
static int secret_match_pem(const struct scan_input *in, const struct scan_trigger *t,
			    struct policy_findings *out)
{
	const char *s = in->text;
	size_t len = in->len, p = t->end, lab = p;
	while (p < len && p - lab < 64 && ((s[p] >= 'A' && s[p] <= 'Z') || s[p] == ' ' ||
					   (s[p] >= '0' && s[p] <= '9')))
		p++;
	size_t lab_end = p;
	if (len - p < 5 || memcmp(s + p, "-----", 5) != 0)
		return 0;
	static const char *const suffixes[] = { "PRIVATE KEY", "PRIVATE KEY BLOCK" };
	int priv = 0;
	for (size_t i = 0; i < 2; i++) {
		size_t m = strlen(suffixes[i]);
		if (lab_end - lab >= m && memcmp(s + lab_end - m, suffixes[i], m) == 0)
			priv = 1;
	}
	if (!priv)
		return 0;
	p += 5;
	/* body: base64 lines and RFC 1421 headers ("Proc-Type: ..."); then the
	 * END line. A block cut off (no END) is still a key: report up to
	 * where the base64 ends. */
	size_t body = p, last = p;
	size_t b64 = 0;
	while (p < len) {
		unsigned char c = (unsigned char)s[p];
		/* another "-----BEGIN" (or any 5 dashes but END) ends the body:
		 * no block is read twice, so many headers stay linear */
		if (c == '-' && len - p >= 5 && memcmp(s + p, "-----", 5) == 0 &&
		    !(len - p >= 9 && memcmp(s + p, "-----END ", 9) == 0))
			break;
		if (c == '-' && len - p >= 9 && memcmp(s + p, "-----END ", 9) == 0) {
			size_t e = p + 9;
			while (e < len && e - p < 80 && s[e] != '\n' && memcmp(s + e, "-----", len - e >= 5 ? 5 : len - e) != 0)
				e++;
			if (len - e >= 5 && memcmp(s + e, "-----", 5) == 0)
				last = e + 5;
			else
				last = e;
			break;
		}
		if (secret_in_charset(c, SECRET_CHARSET_B64) || c == '=') {
			b64++;
			last = p + 1;
		} else if (!(c == '\n' || c == '\r' || c == ' ' || c == '\t' || c == ':' ||
			     c == ',' || c == '-' || c == '\\')) {
			break;
		}
		p++;
	}
	(void)body;
	if (b64 < 32)
		return 0;   /* "-----BEGIN PRIVATE KEY-----\n...\n" in docs */
	return scan_add_finding(out, in, t->start, last, 0);
}

/* ---- JWT: base64url(header).base64url(payload).base64url(signature) ---- */

static const struct detector_keyword secret_kw_jwt[] = {
	/* base64url of '{"' is "eyJ" */
	{ "eyJ", KC | DETECTOR_KW_WORD_START, SCAN_CONTEXT_NONE },
	{ NULL, 0, 0 }
};

static int secret_b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '-') return 62;
	if (c == '_') return 63;
	return -1;
}

/* Decodes up to cap bytes of base64url (RFC 4648 section 5, no padding). */
static size_t secret_b64url_decode(const char *s, size_t n, char *dst, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n && o < cap; i++) {
		int v = secret_b64url_value((unsigned char)s[i]);
		if (v < 0)
			break;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dst[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return o;
}

/* Bearer tokens travel in HTTP headers (8 KB limits are common). */
#define SECRET_JWT_MAX_PART 8192

static int secret_match_jwt(const struct scan_input *in, const struct scan_trigger *t,
			    struct policy_findings *out)
{
	const char *s = in->text;
	size_t len = in->len, p = t->start, part[3][2];
	/* a JWT starts a base64url run: a trigger inside one ("eyJ-eyJ-...")
	 * is not a token start, which also keeps chains linear */
	if (t->start > 0 && secret_in_charset((unsigned char)s[t->start - 1], SECRET_CHARSET_B64URL))
		return 0;
	for (int k = 0; k < 3; k++) {
		size_t n = secret_run(s, len, p, SECRET_CHARSET_B64URL, SECRET_JWT_MAX_PART);
		if (n > SECRET_JWT_MAX_PART)
			return 0;
		part[k][0] = p;
		part[k][1] = p + n;
		/* header and payload are JSON objects: 10+ chars; the signature
		 * of HS256 is 43 chars; an unsigned token ("alg":"none") ends in
		 * an empty part, which we accept. */
		if (k < 2 && n < 10)
			return 0;
		p += n;
		if (k < 2) {
			if (p >= len || s[p] != '.')
				return 0;
			p++;
		}
	}
	if (secret_word_byte(s, len, p) || (p < len && s[p] == '.'))
		return 0;
	/* the header decodes to JSON with an "alg" member (RFC 7515 4.1.1) */
	/* decoded token bytes are prompt text: wiped before returning */
	char hdr[256], pay[4];
	size_t hn = secret_b64url_decode(s + part[0][0], part[0][1] - part[0][0], hdr, sizeof hdr);
	int is_jwt = hn >= 2 && hdr[0] == '{' && secret_ci_contains(hdr, hn, "\"alg\"") &&
		     secret_b64url_decode(s + part[1][0], part[1][1] - part[1][0], pay, sizeof pay) >= 1 &&
		     pay[0] == '{';
	explicit_bzero(hdr, sizeof hdr);
	explicit_bzero(pay, sizeof pay);
	if (!is_jwt)
		return 0;
	return scan_add_finding(out, in, t->start, p, 0);
}

/* ---- Azure storage account keys in connection strings ---- */

/* In connection strings (AccountKey=), the Azure CLI (--account-key) and
 * the SDKs' environment variable. */
static const struct detector_keyword secret_kw_azure[] = {
	{ "AccountKey=", KT | DETECTOR_KW_WORD_START, SCAN_CONTEXT_SECRET },
	{ "--account-key", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_SECRET },
	{ "AZURE_STORAGE_KEY", KT | DETECTOR_KW_WORD, SCAN_CONTEXT_SECRET },
	{ "AZURE_STORAGE_ACCOUNT_KEY", KT | DETECTOR_KW_WORD, SCAN_CONTEXT_SECRET },
	{ NULL, 0, 0 }
};

/* 64 random bytes in base64: 86 characters + "==". */
static int secret_match_azure(const struct scan_input *in, const struct scan_trigger *t,
			      struct policy_findings *out)
{
	size_t p = t->end;
	if (in->text[t->end - 1] != '=') {
		/* "--account-key KEY", "AZURE_STORAGE_KEY=KEY", quoted or not */
		while (p < in->len && (in->text[p] == ' ' || in->text[p] == '=' || in->text[p] == ':') &&
		       p - t->end < 4)
			p++;
		if (p < in->len && (in->text[p] == '"' || in->text[p] == '\''))
			p++;
	}
	size_t n = secret_run(in->text, in->len, p, SECRET_CHARSET_B64, 88);
	size_t pad = 0;
	while (p + n + pad < in->len && in->text[p + n + pad] == '=' && pad < 2)
		pad++;
	if (n + pad != 88 || secret_word_byte(in->text, in->len, p + n + pad))
		return 0;
	if (secret_entropy(in->text + p, n) < 4.5)
		return 0;
	return scan_add_finding(out, in, p, p + n + pad, 0);
}

/* ---- passwords in URLs: scheme://user:password@host ---- */

static const struct detector_keyword secret_kw_url[] = {
	{ "://", KT, SCAN_CONTEXT_NONE },
	{ NULL, 0, 0 }
};

static int secret_url_byte(unsigned char c)
{
	/* RFC 3986 userinfo: unreserved / pct-encoded / sub-delims / ":" */
	return scan_is(c, SCAN_BYTE_ALNUM) || strchr("-._~%!$&'()*+,;=:", c) != NULL || c >= 0x80;
}

static int secret_match_url(const struct scan_input *in, const struct scan_trigger *t,
			    struct policy_findings *out)
{
	const char *s = in->text;
	size_t len = in->len, p = t->end, colon = 0, at = 0;
	/* the scheme must be letters right before "://" */
	if (t->start == 0 || !scan_is((unsigned char)s[t->start - 1], SCAN_BYTE_UPPER | SCAN_BYTE_LOWER))
		return 0;
	for (size_t i = p; i < len && i - p < 256; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '@') {
			at = i;
			break;
		}
		if (c == ':' && !colon)
			colon = i;
		if (c == '/' || c == '?' || c == '#' || !secret_url_byte(c))
			break;
	}
	if (!at || !colon || colon == p || colon + 1 >= at)
		return 0;
	/* host after '@' */
	if (at + 1 >= len || !scan_is((unsigned char)s[at + 1], SCAN_BYTE_ALNUM | SCAN_BYTE_HIGH) )
		if (!(at + 1 < len && s[at + 1] == '['))
			return 0;
	const char *pw = s + colon + 1;
	size_t n = at - colon - 1;
	if (secret_is_placeholder(pw, n))
		return 0;
	return scan_add_finding(out, in, colon + 1, at, 0);
}

/* ---- assignments: password = value, secret: value ---- */

struct secret_assign_rule {
	size_t min_len;
	double min_entropy;    /* bits per byte */
	int need_mix;          /* at least two of digit / upper / lower */
};

/* Password: short human passwords count ("Sommer2024!"), so only a low
 * entropy floor that rejects "aaaa1111"-style and trivially repeated values. */
static const struct secret_assign_rule secret_rule_password = { 6, 2.0, 0 };
/* Generic secrets are machine-made: long and random. 3.0 bits per byte
 * separates them from words and ids ("production-cluster" has 3.3 but no
 * digit or upper case, so the class mix rule catches it). */
static const struct secret_assign_rule secret_rule_generic = { 16, 3.0, 1 };

static const struct detector_keyword secret_kw_password[] = {
	{ "password", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_PASSWORD },
	{ "passwort", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_PASSWORD },
	{ "passwd", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_PASSWORD },
	{ "pwd", KT | DETECTOR_KW_WORD, SCAN_CONTEXT_PASSWORD },
	{ "pass", KT | DETECTOR_KW_WORD, SCAN_CONTEXT_PASSWORD },
	{ "kennwort", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_PASSWORD },
	{ "mot de passe", KT | DETECTOR_KW_WORD, SCAN_CONTEXT_PASSWORD },
	{ "contrase\xc3\xb1" "a", KT | DETECTOR_KW_WORD, SCAN_CONTEXT_PASSWORD },
	{ "contrasena", KT | DETECTOR_KW_WORD, SCAN_CONTEXT_PASSWORD },
	{ NULL, 0, 0 }
};

static const struct detector_keyword secret_kw_generic[] = {
	{ "secret", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_SECRET },
	{ "token", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_SECRET },
	{ "api_key", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_SECRET },
	{ "apikey", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_SECRET },
	{ "api-key", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_SECRET },
	{ "access_key", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_SECRET },
	{ "private_key", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_SECRET },
	{ "auth_key", KT | DETECTOR_KW_WORD_END, SCAN_CONTEXT_SECRET },
	{ "bearer", KT | DETECTOR_KW_WORD, SCAN_CONTEXT_SECRET },
	{ NULL, 0, 0 }
};

/* Verbs that may stand between a key name and its value: "Passwort ist",
 * "api_key lautet:", "the password is", "le mot de passe est", "il token è". */
static const char *const secret_verbs[] = {
	"ist", "lautet", "is", "est", "es", "\xc3\xa8", "era", "was", "sind", NULL
};

static size_t secret_verb_at(const char *s, size_t len, size_t p)
{
	for (size_t i = 0; secret_verbs[i]; i++) {
		size_t m = strlen(secret_verbs[i]);
		if (len - p > m && memcmp(s + p, secret_verbs[i], m) == 0 &&
		    (s[p + m] == ' ' || s[p + m] == ':'))
			return p + m;
	}
	return 0;
}

/* After the key name: optional closing quote, blanks, then '=', ':', ":=",
 * "=>", or a verb ("ist", "is", "lautet:") possibly after a few words
 * ("Passwort für den Server ist"), or for "bearer" a blank; then an
 * optional quote. Returns the value start or 0; *quote gets the opening
 * quote byte or 0; *far is set when words stood between key and verb (the
 * value must then be quoted). */
static size_t secret_assign_value(const char *s, size_t len, size_t p, int bare_ok, char *quote,
				  int *far)
{
	*quote = 0;
	*far = 0;
	if (p < len && (s[p] == '"' || s[p] == '\''))
		p++;
	while (p < len && (s[p] == ' ' || s[p] == '\t'))
		p++;
	size_t q = p, v;
	if (p < len && s[p] == ':') {
		p++;
		if (p < len && s[p] == '=')
			p++;
	} else if (p < len && s[p] == '=') {
		p++;
		if (p < len && s[p] == '>')
			p++;
	} else if ((v = secret_verb_at(s, len, p)) != 0) {
		p = v;
		if (p < len && s[p] == ':')
			p++;
	} else if (!bare_ok) {
		/* up to 40 bytes of words, then a verb */
		size_t i = p;
		while (i < len && i - p < 40 && s[i] != '\n' && s[i] != '.' && s[i] != ',' && s[i] != ':' &&
		       s[i] != '=' && s[i] != '"' && s[i] != '\'') {
			if (s[i - 1] == ' ' && (v = secret_verb_at(s, len, i)) != 0) {
				*far = 1;
				p = v;
				break;
			}
			i++;
		}
		if (!*far)
			return 0;
	}
	if (p == q && !bare_ok)
		return 0;
	while (p < len && (s[p] == ' ' || s[p] == '\t'))
		p++;
	if (p < len && (s[p] == '"' || s[p] == '\'' || s[p] == '`')) {
		*quote = s[p];
		p++;
	}
	return p;
}

static int secret_match_assign(const struct scan_input *in, const struct scan_trigger *t,
			       struct policy_findings *out)
{
	const struct secret_assign_rule *r = in->det->arg;
	const char *s = in->text;
	size_t len = in->len;
	char quote;
	int far;
	int bare = (t->end - t->start == 6 && strncasecmp(s + t->start, "bearer", 6) == 0);
	size_t v = secret_assign_value(s, len, t->end, bare, &quote, &far);
	if (!v || v >= len || (far && !quote))
		return 0;
	size_t e = v;
	if (quote) {
		while (e < len && e - v < 256 && s[e] != quote && s[e] != '\n')
			e++;
		if (e >= len || s[e] != quote)
			return 0;
	} else {
		while (e < len && e - v < 256 && !scan_is((unsigned char)s[e], SCAN_BYTE_SPACE) &&
		       s[e] != ';' && s[e] != ',' && s[e] != '&' && s[e] != '"' && s[e] != '\'' &&
		       s[e] != ')' && s[e] != ']' && s[e] != '}' && s[e] != '<')
			e++;
		/* machine-made secrets are tokens: a generic value stops at
		 * the first byte outside base64/base64url/hex ("KEY_ID=AKIA...",
		 * "https://..." are not one secret) */
		if (r->need_mix) {
			size_t k = v;
			while (k < e && (scan_is((unsigned char)s[k], SCAN_BYTE_ALNUM) ||
					 strchr("-_.+/~", s[k])))
				k++;
			while (k < e && s[k] == '=')
				k++;
			if (k < e)
				return 0;
		}
		/* a sentence's full stop is not part of the value */
		while (e > v && (s[e - 1] == '.' || s[e - 1] == ':'))
			e--;
	}
	size_t n = e - v;
	if (n < r->min_len || n > 255)
		return 0;
	if (secret_is_placeholder(s + v, n))
		return 0;
	/* the value restates the key: "password: password123"? keep; but a
	 * value that is a function call or a variable is not a secret */
	if (s[v] == '$' || s[v] == '%' || s[v] == '@' || memchr(s + v, '(', n))
		return 0;
	if (secret_entropy(s + v, n) < r->min_entropy)
		return 0;
	if (r->need_mix && !secret_has_class_mix(s + v, n))
		return 0;
	if (!quote && !r->need_mix) {
		/* unquoted password in prose: "password: is required" is caught
		 * above by the placeholder list; a plain lower-case word of
		 * letters only is prose, not a password ("Passwort: vergessen") */
		int letters_only = 1;
		size_t m = n;
		while (m > 0 && strchr("?!.,:", s[v + m - 1]))
			m--;
		for (size_t i = 0; i < m; i++)
			if (!scan_is((unsigned char)s[v + i], SCAN_BYTE_LOWER | SCAN_BYTE_HIGH))
				letters_only = 0;
		if (letters_only)
			return 0;
	}
	return scan_add_finding(out, in, v, e, 0);
}

#define R DATA_CLASS_RESTRICTED
const struct detector detect_secret_table[] = {
	{ .id = "private_key", .entity = ENTITY_PRIVATE_KEY, .data_class = R, .confidence = 99, .shapes = 0,
	  .keywords = secret_kw_pem, .match = secret_match_pem, .arg = NULL },
	{ .id = "jwt", .entity = ENTITY_JWT, .data_class = R, .confidence = 95, .shapes = 0,
	  .keywords = secret_kw_jwt, .match = secret_match_jwt, .arg = NULL },
	{ .id = "aws_access_key", .entity = ENTITY_AWS_ACCESS_KEY, .data_class = R, .confidence = 95, .shapes = 0,
	  .keywords = secret_kw_aws, .match = secret_match_prefixed, .arg = &secret_rule_aws },
	{ .id = "github_token", .entity = ENTITY_GITHUB_TOKEN, .data_class = R, .confidence = 97, .shapes = 0,
	  .keywords = secret_kw_github, .match = secret_match_prefixed, .arg = &secret_rule_github },
	{ .id = "github_pat", .entity = ENTITY_GITHUB_TOKEN, .data_class = R, .confidence = 97, .shapes = 0,
	  .keywords = secret_kw_github_pat, .match = secret_match_prefixed, .arg = &secret_rule_github_pat },
	{ .id = "gitlab_token", .entity = ENTITY_GITLAB_TOKEN, .data_class = R, .confidence = 95, .shapes = 0,
	  .keywords = secret_kw_gitlab, .match = secret_match_prefixed, .arg = &secret_rule_gitlab },
	{ .id = "slack_token", .entity = ENTITY_SLACK_TOKEN, .data_class = R, .confidence = 95, .shapes = 0,
	  .keywords = secret_kw_slack, .match = secret_match_prefixed, .arg = &secret_rule_slack },
	{ .id = "openai_key", .entity = ENTITY_OPENAI_KEY, .data_class = R, .confidence = 90, .shapes = 0,
	  .keywords = secret_kw_openai, .match = secret_match_prefixed, .arg = &secret_rule_openai },
	{ .id = "google_api_key", .entity = ENTITY_GOOGLE_API_KEY, .data_class = R, .confidence = 95, .shapes = 0,
	  .keywords = secret_kw_google, .match = secret_match_prefixed, .arg = &secret_rule_google },
	{ .id = "azure_storage_key", .entity = ENTITY_AZURE_STORAGE_KEY, .data_class = R, .confidence = 95, .shapes = 0,
	  .keywords = secret_kw_azure, .match = secret_match_azure, .arg = NULL },
	{ .id = "password_url", .entity = ENTITY_PASSWORD, .data_class = R, .confidence = 90, .shapes = 0,
	  .keywords = secret_kw_url, .match = secret_match_url, .arg = NULL },
	{ .id = "password_assignment", .entity = ENTITY_PASSWORD, .data_class = R, .confidence = 80, .shapes = 0,
	  .keywords = secret_kw_password, .match = secret_match_assign, .arg = &secret_rule_password },
	{ .id = "generic_secret", .entity = ENTITY_GENERIC_SECRET, .data_class = R, .confidence = 75, .shapes = 0,
	  .keywords = secret_kw_generic, .match = secret_match_assign, .arg = &secret_rule_generic },
};
#undef R
const size_t detect_secret_count = sizeof detect_secret_table / sizeof detect_secret_table[0];
