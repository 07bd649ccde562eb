/* placeholder until the CLI lands */
#include <stdio.h>
#include <numaplace/common.h>
int main(void) { printf("numaplace %s\n", np_version()); return 0; }
