/*
 * cli/bench_svg.c - plain SVG charts for `numaplace bench`: a grouped bar
 * chart (one group per scenario, one bar per policy) and a line chart
 * (one line per policy over time). No library: the charts are a few
 * rectangles, polylines and labels, written as text, so they render the
 * same in a browser, on GitHub and with rsvg-convert.
 */
#include "bench_suite.h"

#include <math.h>
#include <stdio.h>

/* Layout, in SVG user units (pixels at 100%). */
#define SVG_MARGIN_LEFT 70.0
#define SVG_MARGIN_RIGHT 20.0
#define SVG_MARGIN_TOP 50.0
#define SVG_MARGIN_BOTTOM 110.0 /* room for slanted scenario names */
#define SVG_BAR_WIDTH 9.0
#define SVG_GROUP_GAP 14.0
#define SVG_LINE_WIDTH 900.0
#define SVG_PLOT_HEIGHT 320.0
#define SVG_Y_TICKS 5
#define SVG_LEGEND_ROW 18.0
#define SVG_MIN_PLOT_WIDTH 520.0 /* room for the title with few scenarios */

/* One color per policy column, distinguishable in grey print as well. */
static const char *const palette[] = {"#7f7f7f", "#d62728", "#ff7f0e", "#1f77b4", "#2ca02c",
                                      "#9467bd", "#8c564b"};
#define NR_COLORS (sizeof(palette) / sizeof(palette[0]))
/* Line charts: a dash pattern per policy too, so policies with the same
 * series (xl42 falling back to none) stay visible on top of each other. */
static const char *const dashes[] = {"none", "10 5", "3 4", "none", "12 4 3 4", "6 2", "1 3"};

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

/* A round axis maximum at or above max: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6
 * or 8 times a power of ten, so bars fill most of the plot. */
static double nice_max(double max)
{
    static const double steps[] = {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0};
    if (!(max > 0))
        return 1.0;
    double p = pow(10.0, floor(log10(max)));
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (steps[i] * p >= max)
            return steps[i] * p;
    return 10.0 * p;
}

static void header(FILE *f, double w, double h, const char *title, const char *ylabel)
{
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"%.0f\" y=\"22\" font-size=\"15\" font-weight=\"bold\">",
            w, h, w, h, SVG_MARGIN_LEFT);
    xml_text(f, title);
    fprintf(f, "</text>\n<text transform=\"translate(16,%.0f) rotate(-90)\" "
               "text-anchor=\"middle\">",
            SVG_MARGIN_TOP + SVG_PLOT_HEIGHT / 2);
    xml_text(f, ylabel);
    fputs("</text>\n", f);
}

static void y_axis(FILE *f, double x1, double ymax, double width, int decimals)
{
    for (int t = 0; t <= SVG_Y_TICKS; t++) {
        double v = ymax * t / SVG_Y_TICKS;
        double y = SVG_MARGIN_TOP + SVG_PLOT_HEIGHT * (1.0 - (double)t / SVG_Y_TICKS);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                x1, y, x1 + width, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", x1 - 6, y + 4);
        fprintf(f, "%.*f", decimals, v);
        fputs("</text>\n", f);
    }
}

static void legend(FILE *f, double x, double y, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double yy = y + SVG_LEGEND_ROW * (double)i;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", x,
                yy - 10, palette[i % NR_COLORS]);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x + 16, yy);
        xml_text(f, names[i]);
        fputs("</text>\n", f);
    }
}

int bench_svg_bars(const char *path, const char *title, const char *ylabel,
                   const char *const *groups, size_t nr_groups, const char *const *series,
                   size_t nr_series, const double *values, double ref_line)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    double max = ref_line;
    for (size_t i = 0; i < nr_groups * nr_series; i++)
        if (values[i] > max && isfinite(values[i]))
            max = values[i];
    double ymax = nice_max(max);
    double group_w = SVG_BAR_WIDTH * (double)nr_series + SVG_GROUP_GAP;
    double plot_w = group_w * (double)nr_groups;
    if (plot_w < SVG_MIN_PLOT_WIDTH) {
        group_w = SVG_MIN_PLOT_WIDTH / (double)(nr_groups ? nr_groups : 1);
        plot_w = SVG_MIN_PLOT_WIDTH;
    }
    double legend_w = 170;
    double w = SVG_MARGIN_LEFT + plot_w + SVG_MARGIN_RIGHT + legend_w;
    double h = SVG_MARGIN_TOP + SVG_PLOT_HEIGHT + SVG_MARGIN_BOTTOM;
    header(f, w, h, title, ylabel);
    y_axis(f, SVG_MARGIN_LEFT, ymax, plot_w, ymax <= 2 ? 2 : 1);
    for (size_t g = 0; g < nr_groups; g++) {
        double g0 = SVG_MARGIN_LEFT + group_w * (double)g;
        double gx = g0 + (group_w - SVG_BAR_WIDTH * (double)nr_series) / 2; /* bars centred */
        for (size_t s = 0; s < nr_series; s++) {
            double v = values[g * nr_series + s];
            if (!isfinite(v) || v < 0)
                continue; /* no result (policy skipped) */
            double bh = SVG_PLOT_HEIGHT * v / ymax;
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                    "<title>%s / %s: %.3f</title></rect>\n",
                    gx + SVG_BAR_WIDTH * (double)s, SVG_MARGIN_TOP + SVG_PLOT_HEIGHT - bh,
                    SVG_BAR_WIDTH - 1, bh, palette[s % NR_COLORS], groups[g], series[s], v);
        }
        double lx = g0 + group_w / 2;
        double ly = SVG_MARGIN_TOP + SVG_PLOT_HEIGHT + 12;
        fprintf(f, "<text transform=\"translate(%.1f,%.1f) rotate(-40)\" text-anchor=\"end\">",
                lx, ly);
        xml_text(f, groups[g]);
        fputs("</text>\n", f);
    }
    if (ref_line > 0) {
        double y = SVG_MARGIN_TOP + SVG_PLOT_HEIGHT * (1.0 - ref_line / ymax);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\" "
                "stroke-dasharray=\"4 3\"/>\n",
                SVG_MARGIN_LEFT, y, SVG_MARGIN_LEFT + plot_w, y);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
            SVG_MARGIN_LEFT, SVG_MARGIN_TOP + SVG_PLOT_HEIGHT, SVG_MARGIN_LEFT + plot_w,
            SVG_MARGIN_TOP + SVG_PLOT_HEIGHT);
    legend(f, SVG_MARGIN_LEFT + plot_w + 20, SVG_MARGIN_TOP + 10, series, nr_series);
    fputs("</svg>\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

int bench_svg_lines(const char *path, const char *title, const char *ylabel,
                    const char *const *series, size_t nr_series, const double *const *xs,
                    const double *const *ys, const size_t *lens, double ymax_hint)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    double xmax = 0, ymax = ymax_hint;
    for (size_t s = 0; s < nr_series; s++) {
        for (size_t i = 0; i < lens[s]; i++) {
            if (xs[s][i] > xmax)
                xmax = xs[s][i];
            if (ys[s][i] > ymax && isfinite(ys[s][i]))
                ymax = ys[s][i];
        }
    }
    ymax = nice_max(ymax);
    if (!(xmax > 0))
        xmax = 1;
    double legend_w = 170;
    double w = SVG_MARGIN_LEFT + SVG_LINE_WIDTH + SVG_MARGIN_RIGHT + legend_w;
    double h = SVG_MARGIN_TOP + SVG_PLOT_HEIGHT + 60;
    header(f, w, h, title, ylabel);
    y_axis(f, SVG_MARGIN_LEFT, ymax, SVG_LINE_WIDTH, 2);
    for (int t = 0; t <= SVG_Y_TICKS; t++) {
        double x = SVG_MARGIN_LEFT + SVG_LINE_WIDTH * t / SVG_Y_TICKS;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.1f</text>\n", x,
                SVG_MARGIN_TOP + SVG_PLOT_HEIGHT + 18, xmax * t / SVG_Y_TICKS);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">simulated time (s)</text>\n",
            SVG_MARGIN_LEFT + SVG_LINE_WIDTH / 2, SVG_MARGIN_TOP + SVG_PLOT_HEIGHT + 40);
    for (size_t s = 0; s < nr_series; s++) {
        if (!lens[s])
            continue;
        fprintf(f,
                "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
                "stroke-dasharray=\"%s\" points=\"",
                palette[s % NR_COLORS], s == 0 ? "4" : "2", dashes[s % NR_COLORS]);
        for (size_t i = 0; i < lens[s]; i++) {
            double y = isfinite(ys[s][i]) ? ys[s][i] : 0;
            fprintf(f, "%.1f,%.1f ", SVG_MARGIN_LEFT + SVG_LINE_WIDTH * xs[s][i] / xmax,
                    SVG_MARGIN_TOP + SVG_PLOT_HEIGHT * (1.0 - y / ymax));
        }
        fputs("\"/>\n", f);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
            SVG_MARGIN_LEFT, SVG_MARGIN_TOP + SVG_PLOT_HEIGHT, SVG_MARGIN_LEFT + SVG_LINE_WIDTH,
            SVG_MARGIN_TOP + SVG_PLOT_HEIGHT);
    legend(f, SVG_MARGIN_LEFT + SVG_LINE_WIDTH + 20, SVG_MARGIN_TOP + 10, series, nr_series);
    fputs("</svg>\n", f);
    return fclose(f) == 0 ? 0 : -1;
}
