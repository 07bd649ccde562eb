/*
 * numaplace/libvirt.h - numaplace for hosts run through libvirt.
 *
 * Advice in numad's contract: libvirt's `placement='auto'` runs
 * `numad -w VCPUS:MEMORY_MB` and reads a node list ("0-1", "1,3") from its
 * standard output. np_advise_parse() reads that request and np_advise()
 * answers it from numaplace's placement policy and a host state (the live
 * host with its running guests, or a topology file): pure functions, so the
 * answer on a built-in host is a golden test (docs/libvirt.md).
 *
 * Node numbers in answers are OS ids (the kernel's, possibly sparse), as
 * numad prints them.
 */
#ifndef NUMAPLACE_LIBVIRT_H
#define NUMAPLACE_LIBVIRT_H

#include <stdbool.h>
#include <stdint.h>

#include <numaplace/bitmap.h>
#include <numaplace/common.h>
#include <numaplace/hoststate.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- numad -w advice ------------------------------------------------------ */

/* Most CPUs a request may name: numaplace's CPU id limit (65,536). */
#define NP_ADVISE_MAX_VCPUS 65536u
/* Most MiB a request may name: 2^44 MiB = 16 EiB, so bytes fit in 64 bits. */
#define NP_ADVISE_MAX_MEM_MB ((UINT64_C(1) << 44) - 1)
/* Memory placed for a request without ":MB". numad then weighs CPUs only;
 * placement needs some memory, and one MiB never decides between nodes. */
#define NP_ADVISE_NO_MEMORY_BYTES (UINT64_C(1) << 20)
/* Name of the guest an advice places (never a running guest's: host-state
 * names are unique and this one has a character libvirt refuses in a
 * domain name). */
#define NP_ADVISE_GUEST_NAME "numad-advice/request"

typedef struct np_advise_request {
    uint32_t vcpus;     /* CPUs asked for, rounded up (numad takes "1.5") */
    uint64_t mem_bytes; /* memory asked for; 0 when the request had no ":MB" */
} np_advise_request;

/* Parses numad's -w argument "NCPUS[:MB]": NCPUS a decimal number of CPUs
 * with an optional fraction (rounded up to whole vCPUs, at least 1), MB a
 * decimal count of MiB. -EINVAL with err naming `origin` and what was
 * expected on anything else (signs, blanks, trailing text, 0 CPUs, values
 * above the limits above). */
int np_advise_parse(const char *text, const char *origin, np_advise_request *out,
                    np_error *err);

typedef struct np_advice {
    np_bitmap *nodes;   /* node OS ids to bind the guest to (owned) */
    bool fits;          /* false: the policy found no room; nodes = every
                           node, numad's answer when nothing fits */
    char note[512];     /* why it does not fit, or the policy's note; "" */
} np_advice;

/* Answers a request against host state `st` (which it does not change)
 * under placement policy `policy` (NULL = the default). The nodes are the
 * placement's nodes; when the request fits nowhere (or is larger than the
 * host) the answer is every node with fits = false, as numad answers,
 * because libvirt refuses to start a guest when the adviser fails.
 * Free the answer with np_advice_fini(). -EINVAL for an unknown policy. */
int np_advise(const np_host_state *st, const np_advise_request *req, const char *policy,
              np_advice *out, np_error *err);
void np_advice_fini(np_advice *a);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_LIBVIRT_H */
