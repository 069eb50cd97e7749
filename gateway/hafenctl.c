/* hafenctl: dispatches `hafenctl GROUP ...` to the group's file. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gateway/ctl.h"

static const struct ctl_command ctl_commands[] = {
	{ "version", ctl_version_run, "print the version" },
	{ "policy", ctl_policy_run, "try policies on a text (test) or check policy files (lint)" },
	{ "audit", ctl_audit_run, "audit log: keygen, verify, prove, checkpoint, export, report, purge" },
	{ "subject", ctl_subject_run, "data subjects: export, erase, hold, release (GDPR Art. 15, 17)" },
	{ "report", ctl_report_run, "report processing (GDPR Art. 30 record of processing), report aiact (AI Act)" },
	{ "key", ctl_key_run, "API keys: create, list, revoke, rotate (key store)" },
	{ "usage", ctl_usage_run, "usage per key, tenant, purpose, model or upstream" },
	{ "upstream", ctl_upstream_run, "kill switches: kill, release, list upstreams and models (AI Act Art. 14)" },
};

int ctl_version_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("hafenctl %s\n", PACKAGE_VERSION);
	return CTL_EXIT_OK;
}

static void ctl_usage(FILE *out)
{
	fprintf(out, "usage: hafenctl COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof ctl_commands / sizeof ctl_commands[0]; i++)
		fprintf(out, "  %-10s %s\n", ctl_commands[i].name, ctl_commands[i].summary);
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		ctl_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof ctl_commands / sizeof ctl_commands[0]; i++)
		if (strcmp(argv[1], ctl_commands[i].name) == 0)
			return ctl_commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "hafenctl: unknown command '%s'\n", argv[1]);
	ctl_usage(stderr);
	return CTL_EXIT_USAGE;
}
