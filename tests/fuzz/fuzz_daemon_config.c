/*
 * fuzz_daemon_config.c - np_daemon_config_parse (numaplaced's configuration
 * file) on arbitrary bytes given as a byte range: a rejection must say why
 * and leave the configuration unchanged; an accepted one must hold values
 * inside their documented ranges.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/ctl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    np_daemon_config cfg, before;
    np_error err = {0};
    np_daemon_config_init(&cfg);
    before = cfg;
    int rc = np_daemon_config_parse(text, size, "fuzz.conf", &cfg, &err);
    if (rc == -EINVAL && (err.msg[0] == '\0' || memcmp(&cfg, &before, sizeof(cfg)) != 0))
        abort();
    if (rc == 0 && (cfg.period_ns < NP_DAEMON_PERIOD_MIN_NS || cfg.locality_target < 0.0 ||
                    cfg.locality_target > 1.0 || cfg.nr_pids > NP_DAEMON_MAX_LIST ||
                    cfg.nr_excluded > NP_DAEMON_MAX_LIST || cfg.migrate_budget_bps == 0 ||
                    strnlen(cfg.socket_path, sizeof(cfg.socket_path)) == sizeof(cfg.socket_path)))
        abort();
    free(text);
    return 0;
}
