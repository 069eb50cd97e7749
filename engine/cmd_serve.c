/* serve: the OpenAI-compatible HTTP server (engine/server.h). */
#include "engine/cmd.h"
#include "engine/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int serve_usage(void)
{
	fprintf(stderr,
	    "usage: hafen-engine serve -m MODEL.gguf [--host 127.0.0.1] [--port 8081] [--threads N]\n"
	    "    [--ctx N] [--parallel N] [--queue N] [--chat-template NAME] [--alias NAME]\n"
	    "    [--load auto|mmap|copy]\n"
	    "  --ctx: tokens per slot (prompt + answer); --parallel: concurrent sequences;\n"
	    "  --queue: requests that may wait for a slot (more get 503; default 64);\n"
	    "  --port 0: any free port (the address is printed on stderr);\n"
	    "  --load: copy the model into huge pages (auto: when it takes at most 60%% of RAM)\n"
	    "    or map the file (docs/engine-kernels.md, \"Loading the model\")\n");
	return 2;
}

/* Integer options: name, range, where it goes. */
struct serve_int_opt {
	const char *name;
	long lo, hi;
	size_t off;
};

static const struct serve_int_opt serve_int_opts[] = {
	{ "--port", 0, 65535, offsetof(struct server_config, port) },
	{ "--threads", 1, 256, offsetof(struct server_config, n_threads) },
	{ "--parallel", 1, 64, offsetof(struct server_config, n_parallel) },
	{ "--queue", 0, 1 << 16, offsetof(struct server_config, max_queue) },
};

static int serve_parse_long(const char *opt, const char *v, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 10);
	if (end == v || *end || errno || *out < lo || *out > hi) {
		fprintf(stderr, "hafen-engine serve: %s: expected an integer from %ld to %ld\n", opt, lo, hi);
		return -1;
	}
	return 0;
}

int cmd_serve_main(int argc, char **argv)
{
	struct server_config cfg = {
		.host = "127.0.0.1", .port = 8081, .n_threads = 1, .n_ctx = 4096, .n_parallel = 1,
		.max_queue = 64,
	};
	char err[512], *name = NULL;
	long v;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t k;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || i + 1 >= argc)
			return serve_usage();
		const char *val = argv[++i];
		for (k = 0; k < sizeof serve_int_opts / sizeof serve_int_opts[0]; k++)
			if (strcmp(a, serve_int_opts[k].name) == 0)
				break;
		if (k < sizeof serve_int_opts / sizeof serve_int_opts[0]) {
			if (serve_parse_long(a, val, serve_int_opts[k].lo, serve_int_opts[k].hi, &v) != 0)
				return 2;
			int iv = (int)v;
			memcpy((char *)&cfg + serve_int_opts[k].off, &iv, sizeof iv);
		} else if (strcmp(a, "--ctx") == 0) {
			if (serve_parse_long(a, val, 16, 1L << 20, &v) != 0)
				return 2;
			cfg.n_ctx = (uint32_t)v;
		} else if (strcmp(a, "-m") == 0) {
			cfg.model_path = val;
		} else if (strcmp(a, "--host") == 0) {
			cfg.host = val;
		} else if (strcmp(a, "--chat-template") == 0) {
			cfg.chat_template = val;
		} else if (strcmp(a, "--alias") == 0) {
			cfg.model_name = val;
		} else if (strcmp(a, "--load") == 0) {
			if (model_load_parse(val, &cfg.load) != 0) {
				fprintf(stderr, "hafen-engine serve: --load: expected auto, mmap or copy\n");
				return 2;
			}
		} else {
			return serve_usage();
		}
	}
	if (!cfg.model_path)
		return serve_usage();
	if (!cfg.model_name) {
		/* the file name without folder and .gguf */
		const char *base = strrchr(cfg.model_path, '/');
		name = strdup(base ? base + 1 : cfg.model_path);
		if (!name) {
			fprintf(stderr, "hafen-engine serve: out of memory\n");
			return 1;
		}
		size_t n = strlen(name);
		if (n > 5 && strcmp(name + n - 5, ".gguf") == 0)
			name[n - 5] = '\0';
		cfg.model_name = name;
	}
	rc = server_http_run(&cfg, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "hafen-engine serve: %s\n", err);
	free(name);
	return rc == 0 ? 0 : 1;
}
