/*
 * place/search.c - bookkeeping shared by the searches: the best candidate
 * so far, the runners-up that explain the choice, the rejected sets that
 * came closest, and the message when nothing fits.
 *
 * The order of candidates is total (np_cand_better: cost, then size, then
 * node list), so the result does not depend on the order the search
 * generates sets in, and a set generated twice (from two seeds) counts
 * once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "place/place_int.h"
#include "util/error.h"
#include "util/text.h"

bool np_comb_next(size_t *pos, size_t k, size_t n)
{
    /* The rightmost position that can still move right moves one step,
     * the positions after it follow it closely: {0,1,4} -> {0,2,3} for
     * n = 5, k = 3. None can move once pos is {n-k, ..., n-1}. */
    size_t i = k;
    while (i > 0 && pos[i - 1] == n - k + i - 1)
        i--;
    if (i == 0)
        return false;
    pos[i - 1]++;
    for (size_t j = i; j < k; j++)
        pos[j] = pos[j - 1] + 1;
    return true;
}

void np_search_init(np_search *s)
{
    s->found = false;
    s->nr_alts = 0;
    s->nr_rejects = 0;
    s->evaluated = 0;
}

static bool in_list(const np_cand *list, size_t nr, const np_cand *c)
{
    for (size_t i = 0; i < nr; i++)
        if (np_cand_same_set(&list[i], c))
            return true;
    return false;
}

/* Inserts c into the ascending list of runners-up, dropping the worst.
 * Where c would go is found first: most sets score worse than every
 * runner-up and leave at once, without the duplicate check. */
static void alt_insert(np_search *s, const np_cand *c)
{
    size_t pos = s->nr_alts;
    while (pos > 0 && np_cand_better(c, &s->alts[pos - 1]))
        pos--;
    if (pos >= NP_PLACE_MAX_ALTS)
        return;
    if (in_list(s->alts, s->nr_alts, c))
        return;
    size_t last = s->nr_alts < NP_PLACE_MAX_ALTS ? s->nr_alts : NP_PLACE_MAX_ALTS - 1;
    for (size_t i = last; i > pos; i--)
        np_cand_copy(&s->alts[i], &s->alts[i - 1]);
    np_cand_copy(&s->alts[pos], c);
    if (s->nr_alts < NP_PLACE_MAX_ALTS)
        s->nr_alts++;
}

/* Rejections worth showing: those that came closest (smallest shortfall,
 * then fewer nodes, then node list). */
static bool reject_closer(const np_cand *a, const np_cand *b)
{
    if (a->short_mib != b->short_mib)
        return a->short_mib < b->short_mib;
    if (a->k != b->k)
        return a->k < b->k;
    for (size_t p = 0; p < a->k; p++)
        if (a->node[p] != b->node[p])
            return a->node[p] < b->node[p];
    return false;
}

static void reject_insert(np_search *s, const np_cand *c)
{
    size_t pos = s->nr_rejects;
    while (pos > 0 && reject_closer(c, &s->rejects[pos - 1]))
        pos--;
    if (pos >= NP_PLACE_MAX_REJECTS)
        return;
    if (in_list(s->rejects, s->nr_rejects, c))
        return;
    size_t last = s->nr_rejects < NP_PLACE_MAX_REJECTS ? s->nr_rejects : NP_PLACE_MAX_REJECTS - 1;
    for (size_t i = last; i > pos; i--)
        np_cand_copy(&s->rejects[i], &s->rejects[i - 1]);
    np_cand_copy(&s->rejects[pos], c);
    if (s->nr_rejects < NP_PLACE_MAX_REJECTS)
        s->nr_rejects++;
}

void np_place_consider(np_search *s, const np_cand *c)
{
    s->evaluated++;
    if (c->reject != NP_REJECT_NONE) {
        if (c->reject == NP_REJECT_MEMORY || c->reject == NP_REJECT_TOO_MANY)
            reject_insert(s, c);
        return;
    }
    if (!s->found) {
        np_cand_copy(&s->best, c);
        s->found = true;
        return;
    }
    if (np_cand_same_set(c, &s->best))
        return;
    if (np_cand_better(c, &s->best)) {
        alt_insert(s, &s->best);
        np_cand_copy(&s->best, c);
    } else {
        alt_insert(s, c);
    }
}

int np_place_no_fit(const np_place_ctx *ctx, const np_search *s, np_error *err)
{
    char need[32], have[32], big[32], less[32];
    uint64_t cpu_total = 0, less_total = 0, largest = 0;

    for (size_t i = 0; i < ctx->n; i++) {
        if (ctx->has_cpus[i]) {
            cpu_total += ctx->avail_mib[i];
            if (ctx->avail_mib[i] > largest)
                largest = ctx->avail_mib[i];
        } else {
            less_total += ctx->avail_mib[i];
        }
    }
    np_format_bytes(ctx->mem_mib * NP_MiB, need, sizeof(need));
    np_format_bytes(largest * NP_MiB, big, sizeof(big));
    if (ctx->max_nodes < NP_PLACE_MAX_SET_NODES && s->nr_rejects > 0) {
        /* vnuma=N limits the span: say what N nodes could offer. */
        uint64_t best = 0;
        for (size_t r = 0; r < s->nr_rejects; r++) {
            const np_cand *c = &s->rejects[r];
            if (c->reject != NP_REJECT_MEMORY || c->k > ctx->max_nodes)
                continue;
            uint64_t got = ctx->mem_mib > c->short_mib ? ctx->mem_mib - c->short_mib : 0;
            best = got > best ? got : best;
        }
        np_format_bytes(best * NP_MiB, have, sizeof(have));
        np_error_set(err, NULL, 0,
                     "guest %s needs %s of memory on at most %zu nodes (vnuma=%zu); the most "
                     "any %zu nodes have available is %s",
                     ctx->spec->name, need, ctx->max_nodes, ctx->max_nodes, ctx->max_nodes,
                     have);
        return -ENOSPC;
    }
    np_format_bytes((cpu_total + (ctx->cpuless_ok ? less_total : 0)) * NP_MiB, have,
                    sizeof(have));
    if (!ctx->cpuless_ok && less_total > 0 && cpu_total + less_total >= ctx->mem_mib) {
        np_format_bytes(less_total * NP_MiB, less, sizeof(less));
        np_error_set(err, NULL, 0,
                     "guest %s needs %s of memory; nodes with CPUs have %s available "
                     "(largest node %s); CPU-less nodes hold %s more, allowed with "
                     "cpuless-memory=yes",
                     ctx->spec->name, need, have, big, less);
    } else if (ctx->mem_mib > cpu_total + (ctx->cpuless_ok ? less_total : 0)) {
        np_error_set(err, NULL, 0,
                     "guest %s needs %s of memory but the host has only %s available "
                     "(largest node %s)",
                     ctx->spec->name, need, have, big);
    } else {
        np_error_set(err, NULL, 0,
                     "guest %s needs %s of memory on at most %u nodes; no set of nodes "
                     "has that much available (largest node %s)",
                     ctx->spec->name, need, NP_PLACE_MAX_SET_NODES, big);
    }
    return -ENOSPC;
}
