/*
 * daemon/helpers.c - a guest's helper threads for `numaplace status`: the
 * emulator (main) thread, the I/O threads and the vhost workers of a QEMU
 * process, each with the CPUs the kernel lets it run on, read after the
 * round acted so status shows where they went when a guest was steered.
 * The Linux backend's guests are QEMU processes (the id is the pid); a
 * libvirt domain's QEMU process is the one libvirt names for it. Xen
 * guests have none here (their device models live in dom0 or a stub
 * domain).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/libvirt.h>
#include <numaplace/linux.h>

#include "daemon.h"

#define KINDS                                                                            \
    ((1u << NP_LINUX_HELPER_EMULATOR) | (1u << NP_LINUX_HELPER_IO) |                     \
     (1u << NP_LINUX_HELPER_VHOST))

static pid_t qemu_pid(daemon_t *d, const dguest *g)
{
    if (d->backend == NP_DAEMON_BACKEND_LINUX)
        return g->pid > 0 ? (pid_t)g->pid : 0;
    if (d->backend != NP_DAEMON_BACKEND_LIBVIRT || !d->lv || g->pid < 0)
        return 0;
    np_libvirt_domain dom;
    if (np_libvirt_domain_get(d->lv, (uint64_t)g->pid, &dom))
        return 0;
    pid_t pid = dom.pid > 0 ? (pid_t)dom.pid : 0;
    np_libvirt_domain_fini(&dom);
    return pid;
}

void daemon_sense_helpers(daemon_t *d, dguest *g, const np_linux_vhost_scan *vhost)
{
    np_linux_helper *hs = NULL;
    size_t n = 0;

    g->nr_helpers = g->nr_helpers_found = 0;
    pid_t pid = d->ctx ? qemu_pid(d, g) : 0;
    if (!pid || np_linux_helper_threads_scanned(d->ctx, pid, KINDS, vhost, &hs, &n))
        return;
    g->nr_helpers_found = (uint32_t)n;
    for (size_t i = 0; i < n && g->nr_helpers < DAEMON_HELPERS_MAX; i++) {
        dhelper *h = &g->helpers[g->nr_helpers++];
        np_bitmap *cpus = NULL;
        h->tid = (int32_t)hs[i].tid;
        snprintf(h->kind, sizeof(h->kind), "%s", np_linux_helper_kind_name(hs[i].kind));
        snprintf(h->comm, sizeof(h->comm), "%s", hs[i].comm);
        h->cpus[0] = '\0';
        if (np_linux_thread_get_affinity(d->ctx, hs[i].tid, &cpus) == 0)
            np_bitmap_format(cpus, h->cpus, sizeof(h->cpus));
        np_bitmap_destroy(cpus);
    }
    free(hs);
}

void daemon_sense_all_helpers(daemon_t *d)
{
    np_linux_vhost_scan vhost = {0};

    /* One scan of proc/ for the kernel's vhost workers serves every guest
     * (each guest scanning it made a round's cost grow with the square of
     * the number of guests). A failed scan leaves them out this round. */
    if (d->ctx && (d->backend == NP_DAEMON_BACKEND_LINUX || d->backend == NP_DAEMON_BACKEND_LIBVIRT))
        (void)np_linux_vhost_scan_host(d->ctx, &vhost);
    for (size_t i = 0; i < d->st.nr_guests; i++)
        if (d->st.guests[i].seen)
            daemon_sense_helpers(d, &d->st.guests[i], &vhost);
    np_linux_vhost_scan_fini(&vhost);
}
