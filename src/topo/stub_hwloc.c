/* Temporary stub until the hwloc reader lands. */
#include <numaplace/topology.h>
#include "util/error.h"
int np_topology_read_hwloc_xml(const char *t, size_t l, const char *o, np_topology **out, np_error *e)
{ (void)t; (void)l; (void)out; return np_error_set(e, o, 0, "hwloc reader not built yet"); }
int np_topology_read_hwloc_synthetic(const char *d, np_topology **out, np_error *e)
{ (void)d; (void)out; return np_error_set(e, "synthetic", 0, "hwloc reader not built yet"); }
int np_topology_read_live(np_topology **out, np_error *e)
{ (void)out; return np_error_set(e, "live", 0, "hwloc reader not built yet"); }
