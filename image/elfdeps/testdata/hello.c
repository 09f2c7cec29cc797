#include <stdio.h>
#include <math.h>
#include <stdlib.h>

/* A dynamically linked test app: libc and libm from the host. */
int main(int argc, char **argv) {
	printf("hello from libc, sqrt=%.3f\n", sqrt(argc > 1 ? atof(argv[1]) : 2.0));
	return 0;
}
