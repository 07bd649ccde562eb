/*
 * topo/hwloc_xml_check.h - vetting hwloc XML before hwloc 2.9 reads it.
 *
 * hwloc's own XML reader (the minimal one; Debian's hwloc has no libxml2
 * importer) reports no line numbers, crashes or leaks on some malformed
 * input, and silently skips attributes it cannot lex. This module reads
 * the text with libxml2 and with hwloc's lexing rules, refuses what hwloc
 * would mishandle with the line and the reason, and hands back a copy in
 * which hwloc sees exactly the attributes libxml2 saw.
 */
#ifndef NP_TOPO_HWLOC_XML_CHECK_H
#define NP_TOPO_HWLOC_XML_CHECK_H

#include <stddef.h>

#include <numaplace/common.h>

/* Objects the text declares, to notice any that hwloc drops. */
typedef struct np_hwloc_xml_counts {
    unsigned long nr_pus;   /* <object type="PU"> */
    unsigned long nr_nodes; /* <object type="NUMANode"> */
} np_hwloc_xml_counts;

/* Checks text[0..len) and returns in *xml_out a NUL-terminated copy with
 * line ends normalised to "\n" (as XML 1.0 section 2.11 asks), of length
 * *xml_len_out, for hwloc_topology_set_xmlbuffer(). 0, or -EINVAL with err
 * naming origin, line and reason, or -ENOMEM. The caller frees *xml_out. */
int np_hwloc_xml_check(const char *text, size_t len, const char *origin, char **xml_out,
                       size_t *xml_len_out, np_hwloc_xml_counts *counts_out, np_error *err);

#endif
