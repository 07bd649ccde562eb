/*
 * test_write_atomic.c - np_write_file_atomic: the new content replaces the
 * old one whole, the mode is applied to a new file, no temporary file is
 * left behind, and a failure (no such directory) leaves nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <numaplace/common.h>

#include "np_test.h"
#include "util/text.h"

static size_t entries(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_replace(void)
{
    char dir[] = "/tmp/np-atomic-XXXXXX", path[128], *text = NULL;
    size_t len = 0;
    struct stat sb;
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/f", dir);
    ASSERT_EQ(np_write_file_atomic(path, "first version\n", 14, 0600), 0);
    ASSERT_EQ(stat(path, &sb), 0);
    ASSERT_EQ(sb.st_mode & 0777, 0600u);
    ASSERT_EQ(np_write_file_atomic(path, "second", 6, 0600), 0);
    ASSERT_EQ(np_read_file(path, 1024, &text, &len), 0);
    ASSERT_EQ(len, 6u);
    ASSERT_STR_EQ(text, "second");
    free(text);
    ASSERT_EQ(entries(dir), 1u); /* no temporary file left */
    ASSERT_EQ(np_write_file_atomic(path, "", 0, 0600), 0); /* empty is a content too */
    ASSERT_EQ(stat(path, &sb), 0);
    ASSERT_EQ(sb.st_size, 0);
    unlink(path);
    ASSERT_EQ(rmdir(dir), 0);
}

static void test_failure_leaves_nothing(void)
{
    ASSERT_EQ(np_write_file_atomic("/nonexistent-dir/f", "x", 1, 0600), -ENOENT);
    char dir[] = "/tmp/np-atomic-XXXXXX", path[128];
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/sub", dir);
    ASSERT_EQ(mkdir(path, 0700), 0);
    /* a directory in the way: the rename fails, the temporary file goes */
    ASSERT_TRUE(np_write_file_atomic(path, "x", 1, 0600) < 0);
    ASSERT_EQ(entries(dir), 1u);
    ASSERT_EQ(rmdir(path), 0);
    ASSERT_EQ(rmdir(dir), 0);
}

int main(void)
{
    NP_RUN(test_replace);
    NP_RUN(test_failure_leaves_nothing);
    return np_test_summary();
}
