/* Temporary stub until the numactl -H reader lands. */
#include <numaplace/topology.h>
#include "util/error.h"
int np_topology_read_numactl(const char *t, size_t l, const char *o, np_topology **out, np_error *e)
{ (void)t; (void)l; (void)out; return np_error_set(e, o, 0, "numactl reader not built yet"); }
