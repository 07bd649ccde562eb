/*
 * replay_main.c - runs a fuzz target's entry point over every file of the
 * directories (or files) named on the command line, so the regular and
 * sanitizer builds exercise each parser on its corpus and on the malformed
 * inputs without needing libFuzzer. Missing directories are skipped.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    if (np_read_file(path, 16u << 20, &buf, &len) < 0) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return 0;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    free(buf);
    return 1;
}

int main(int argc, char **argv)
{
    int files = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0)
            continue;
        if (!S_ISDIR(st.st_mode)) {
            files += run_file(argv[i]);
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                files += run_file(path);
        }
        closedir(d);
    }
    /* Each input that ran without a crash or sanitizer report passed. */
    printf("%d passed, 0 failed\n", files);
    return files > 0 ? 0 : 1;
}
