/*
 * cli/bench_suite.h - the parts of `numaplace bench` beside `bench place`:
 * the scenario suite (bench_suite.c), the engine benchmark, and the SVG
 * charts they write (bench_svg.c).
 */
#ifndef NP_CLI_BENCH_SUITE_H
#define NP_CLI_BENCH_SUITE_H

#include <stddef.h>
#include <stdio.h>

/* `numaplace bench [suite] ...` and `numaplace bench engine ...`;
 * argv[0] is the word before the options. */
int bench_suite(int argc, char **argv);
int bench_engine(int argc, char **argv);
void bench_suite_usage(FILE *out);
void bench_engine_usage(FILE *out);
/* `numaplace bench mixes ...` (cmd_bench_mixes.c). */
int bench_mixes(int argc, char **argv);
void bench_mixes_usage(FILE *out);

/* values[g * nr_series + s]; a negative value draws no bar. ref_line > 0
 * draws a dashed line at that value. 0 or -1 when the file cannot be written. */
int bench_svg_bars(const char *path, const char *title, const char *ylabel,
                   const char *const *groups, size_t nr_groups, const char *const *series,
                   size_t nr_series, const double *values, double ref_line);
int bench_svg_lines(const char *path, const char *title, const char *ylabel,
                    const char *const *series, size_t nr_series, const double *const *xs,
                    const double *const *ys, const size_t *lens, double ymax_hint);

#endif
