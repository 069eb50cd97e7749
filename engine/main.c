/* hafen-engine: one binary, subcommands dispatched through a table.
 * Adding a subcommand is one row here plus its engine/cmd_<name>.c. */
#include "engine/cmd.h"

#include <stdio.h>
#include <string.h>

struct main_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static const struct main_cmd main_cmds[] = {
	{ "make-model", cmd_make_model_main,
	  "--arch ARCH --preset tiny|small|wide|olmoe-1b-7b|qwen3-30b-a3b [--type T] [--vocab V.gguf] [--seed N] -o OUT.gguf" },
	{ "logits", cmd_logits_main, "-m MODEL.gguf --tokens 1,2,3 -o OUT.bin [--threads N] [--scalar]" },
	{ "bench", cmd_bench_main, "-m MODEL.gguf [-p 128] [-n 32] [--threads N] [--reps R]" },
	{ "tokenize", cmd_tokenize_main, "-m MODEL.gguf (--text S | --file F) [--add-special] [--no-parse-special] [--pieces]" },
	{ "generate", cmd_generate_main, "-m MODEL.gguf -p PROMPT [-n N] [--temp T] [--seed S] [--chat] (see generate --help)" },
	{ "serve", cmd_serve_main, "-m MODEL.gguf [--host H] [--port P] [--threads N] [--ctx N] [--parallel N] [--queue N] [--chat-template NAME]" },
};

static void main_usage(FILE *f)
{
	fprintf(f, "usage: hafen-engine COMMAND [options]\n");
	for (size_t i = 0; i < sizeof main_cmds / sizeof main_cmds[0]; i++)
		fprintf(f, "  %s %s\n", main_cmds[i].name, main_cmds[i].usage);
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		main_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof main_cmds / sizeof main_cmds[0]; i++)
		if (strcmp(argv[1], main_cmds[i].name) == 0)
			return main_cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "hafen-engine: unknown command '%s'\n", argv[1]);
	main_usage(stderr);
	return 2;
}
