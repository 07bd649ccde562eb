/* Temporary stub until the built-in hosts land. */
#include <numaplace/topology.h>
#include "util/error.h"
size_t np_topology_builtin_count(void) { return 0; }
const char *np_topology_builtin_name(size_t i) { (void)i; return NULL; }
const char *np_topology_builtin_summary(size_t i) { (void)i; return NULL; }
int np_topology_builtin(const char *n, np_topology **out, np_error *e)
{ (void)out; return np_error_set(e, "builtin", 0, "unknown built-in host '%s'", n); }
