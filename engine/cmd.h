/* Subcommands of hafen-engine; each lives in engine/cmd_<name>.c and returns
 * the process exit status.  main.c dispatches through its table. */
#ifndef HAFEN_ENGINE_CMD_H
#define HAFEN_ENGINE_CMD_H

int cmd_make_model_main(int argc, char **argv);
int cmd_logits_main(int argc, char **argv);
int cmd_bench_main(int argc, char **argv);
int cmd_tokenize_main(int argc, char **argv);
int cmd_generate_main(int argc, char **argv);
int cmd_serve_main(int argc, char **argv);

#endif
