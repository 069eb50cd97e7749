/* hafen: the gateway daemon (entry point). */
#include "config.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		printf("hafen %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: hafen [-t] -c FILE\n");
	return 2;
}
