/* Temporary: readers not yet written. Removed as each reader lands. */
#include <numaplace/topology.h>
#include "util/error.h"
int np_topology_read_numactl(const char *t, size_t l, const char *o, np_topology **out, np_error *e)
{ (void)t; (void)l; (void)out; return np_error_set(e, o, 0, "numactl reader not built yet"); }
int np_topology_read_xl_info(const char *t, size_t l, const char *o, np_topology **out, np_error *e)
{ (void)t; (void)l; (void)out; return np_error_set(e, o, 0, "xl info reader not built yet"); }
int np_topology_read_hwloc_xml(const char *t, size_t l, const char *o, np_topology **out, np_error *e)
{ (void)t; (void)l; (void)out; return np_error_set(e, o, 0, "hwloc reader not built yet"); }
int np_topology_read_hwloc_synthetic(const char *d, np_topology **out, np_error *e)
{ (void)d; (void)out; return np_error_set(e, "synthetic", 0, "hwloc reader not built yet"); }
int np_topology_read_live(np_topology **out, np_error *e)
{ (void)out; return np_error_set(e, "live", 0, "hwloc reader not built yet"); }
size_t np_topology_builtin_count(void) { return 0; }
const char *np_topology_builtin_name(size_t i) { (void)i; return NULL; }
const char *np_topology_builtin_summary(size_t i) { (void)i; return NULL; }
int np_topology_builtin(const char *n, np_topology **out, np_error *e)
{ (void)out; return np_error_set(e, "builtin", 0, "unknown built-in host '%s'", n); }
