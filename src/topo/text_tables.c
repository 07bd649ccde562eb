/*
 * topo/text_tables.c - the start and end of building a topology, shared by
 * the `numactl --hardware` and `xl info -n` readers (text_tables.h).
 */
#include "topo/text_tables.h"

#include <stdlib.h>

int np_tt_builder_create(const char *prefix, const char *origin, np_topology_builder **out)
{
    np_topology_builder *b = NULL;
    size_t name_len = strlen(prefix) + strlen(origin) + 2;
    char *name = malloc(name_len);
    int rc = name ? np_topology_builder_create(&b) : -ENOMEM;
    if (rc == 0) {
        snprintf(name, name_len, "%s:%s", prefix, origin);
        rc = np_topology_builder_set_name(b, name);
    }
    free(name);
    if (rc < 0) {
        np_topology_builder_destroy(b);
        return rc;
    }
    *out = b;
    return 0;
}

int np_tt_builder_finish(np_topology_builder *b, const char *origin, np_error *err,
                         np_topology **out)
{
    np_topology *t = NULL;
    int rc = np_topology_builder_finish(b, &t, err);
    if (rc == -EINVAL) /* e.g. no CPU on any node: say which input */
        np_tt_set_origin(err, origin);
    np_topology_builder_destroy(b);
    if (rc == 0)
        *out = t;
    return rc;
}
