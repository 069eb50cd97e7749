/* hafenctl: the admin CLI. Each command group lives in its own file
 * (ctl_<group>.c) and registers one row in the table in hafenctl.c. */
#ifndef HAFEN_GATEWAY_CTL_H
#define HAFEN_GATEWAY_CTL_H

struct ctl_command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the group name */
	const char *summary;
};

/* Exit codes shared by all groups. */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAIL = 1,  /* the check failed (verify, lint) or the action failed */
	CTL_EXIT_USAGE = 2, /* bad command line */
};

/* Command groups, one per file. Add the declaration and the row together. */
int ctl_version_run(int argc, char **argv);
int ctl_policy_run(int argc, char **argv);
int ctl_audit_run(int argc, char **argv);
int ctl_subject_run(int argc, char **argv);
int ctl_report_run(int argc, char **argv);
int ctl_aiact_run(int argc, char **argv); /* `report aiact`, gateway/ctl_aiact.c */
int ctl_key_run(int argc, char **argv);
int ctl_usage_run(int argc, char **argv);
int ctl_upstream_run(int argc, char **argv);

#endif
