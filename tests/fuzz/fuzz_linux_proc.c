/*
 * fuzz_linux_proc.c - libFuzzer target for the other /proc and /sys text
 * parsers of the Linux layer, all run on every input: /proc/PID/maps (with
 * each mapping filter), task stat, node meminfo, QEMU's -name and its
 * vfio-pci passthrough devices in a cmdline, and vCPU thread names.
 * Results must be consistent (ranges ordered and non-empty, stat fields in
 * range, device addresses well-formed and distinct); errors must carry a
 * line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linux/linux_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    np_error err = {0};

    for (int f = NP_LINUX_MAPS_ANON; f <= NP_LINUX_MAPS_ALL; f++) {
        np_linux_range *r = NULL;
        size_t n = 0;
        memset(&err, 0, sizeof(err));
        int rc = np_linux_maps_ranges_parse(text, size, "maps", (np_linux_map_filter)f, &r, &n,
                                            &err);
        if (rc == 0) {
            for (size_t i = 0; i < n; i++)
                if (r[i].end <= r[i].start)
                    abort();
            free(r);
        } else if (rc == -EINVAL && err.line == 0) {
            abort();
        }
    }

    np_linux_task_stat st;
    memset(&err, 0, sizeof(err));
    if (np_linux_task_stat_parse(text, size, "stat", &st, &err) == 0) {
        if (st.tid <= 0 || st.processor < 0)
            abort();
    } else if (err.msg[0] == '\0') {
        abort();
    }

    np_linux_node_meminfo mi;
    memset(&err, 0, sizeof(err));
    if (np_linux_node_meminfo_parse(text, size, 0, "meminfo", &mi, &err) == 0 &&
        (mi.total_bytes % 1024 || mi.free_bytes % 1024))
        abort();

    char *name = NULL;
    if (np_linux_qemu_name_parse(text, size, &name) == 0 && (!name || !name[0]))
        abort();
    free(name);

    /* vfio-pci devices: at most max, each "DDDD:BB:DD.F", no duplicates */
    char devs[4][NP_BDF_TEXT_MAX];
    size_t nd = 99;
    if (np_linux_qemu_devices_parse(text, size, devs, 4, &nd) != 0 || nd > 4)
        abort();
    for (size_t i = 0; i < nd; i++) {
        uint32_t dom;
        uint8_t bus, dev, fn;
        if (strlen(devs[i]) != 12 || np_pci_parse_bdf(devs[i], &dom, &bus, &dev, &fn) < 0)
            abort();
        for (size_t j = 0; j < i; j++)
            if (!strcmp(devs[i], devs[j]))
                abort();
    }

    char comm[16];
    size_t cl = size < sizeof(comm) - 1 ? size : sizeof(comm) - 1;
    memcpy(comm, text, cl);
    comm[cl] = '\0';
    int32_t vcpu;
    if (np_linux_vcpu_from_comm(comm, &vcpu) == 0 && vcpu < 0)
        abort();
    return 0;
}
