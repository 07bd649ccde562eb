/*
 * sim/heap.c - a 4-ary indexed min-heap (see heap.h).
 *
 * Four children per node halve the depth of a binary heap; with ~20 000
 * pending timers (pCPUs and blocked vCPUs of a big host) a sift touches 7
 * levels instead of 15. Entries are 16 bytes and the array is laid out so
 * that the four children of a node fill exactly one 64-byte cache line:
 * logical entry i lives at physical slot i + HEAP_PAD, children of i are
 * logical 4i+1..4i+4, physical 4(i+1)..4(i+1)+3.
 *
 * Timers armed for later than the current bucket (buckets are WHEEL_NS
 * wide) but within the wheel's horizon wait in a timer wheel instead: one
 * unsorted array per bucket, WHEEL_SLOTS buckets. When the heap holds
 * nothing of the current bucket or earlier, the queue moves to the next
 * bucket, and the next bucket's timers go into the heap. So the heap holds
 * about a bucket's worth of timers (a few hundred on a 4 096-CPU host)
 * and stays in the first-level cache, where it held every pending timer
 * (20 000) before. The order of events does not change: the heap still
 * orders by (time, seq), and a timer waits in the wheel only while a timer
 * of an earlier bucket is pending. Timers beyond the horizon, and any the
 * wheel cannot take (no memory), go straight into the heap, which is
 * correct for any time: the wheel is only a waiting room.
 *
 * Sequence numbers are 32 bits. When they run out (after 4 billion arms)
 * the queued entries are renumbered in their current order, which keeps
 * every comparison, and so the heap, unchanged.
 */
#include "sim/heap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_ARITY 4u
#define HEAP_PAD 3u
#define HEAP_LINE 64u
#define NOT_QUEUED UINT32_MAX

/* The wheel: WHEEL_SLOTS buckets of 2^WHEEL_SHIFT ns (262 us; 268 ms of
 * horizon). A handle in the wheel has pos = WHEEL_BIT | slot << 21 | index
 * in the slot's array. */
#define WHEEL_SHIFT 18u
#define WHEEL_SLOTS 1024u
#define WHEEL_BIT UINT32_C(0x80000000)
#define WHEEL_IDX_BITS 21u
#define WHEEL_IDX_MASK ((UINT32_C(1) << WHEEL_IDX_BITS) - 1)
#define WHEEL_SLOT_MAX (WHEEL_IDX_MASK - 1) /* keeps NOT_QUEUED unused */
#define WHEEL_WORDS (WHEEL_SLOTS / 64u)

typedef struct entry {
    uint64_t time_ns;
    uint32_t seq;
    uint32_t handle;
} entry;

typedef struct slot {
    entry *e;
    uint32_t n, cap;
} slot;

struct np_timerq {
    entry *slots; /* physical array, 64-byte aligned; heap = slots + HEAP_PAD */
    entry *heap;
    uint32_t *pos; /* handle -> logical heap index, NOT_QUEUED */
    uint32_t nr_handles;
    size_t size;       /* entries in heap[], the pending root included */
    uint32_t next_seq;
    bool root_popped;  /* heap[0] was popped and awaits its replacement */
    /* The wheel: every entry in it has a bucket in (cur_bucket,
     * cur_bucket + WHEEL_SLOTS), in slot bucket % WHEEL_SLOTS. */
    slot *wheel;
    uint64_t wheel_used[WHEEL_WORDS]; /* slots with entries */
    uint64_t cur_bucket;
    size_t wheel_size;
};

static inline uint64_t bucket_of(uint64_t time_ns)
{
    return time_ns >> WHEEL_SHIFT;
}

static inline bool in_wheel(uint32_t pos)
{
    return pos != NOT_QUEUED && (pos & WHEEL_BIT);
}

static inline entry *wheel_entry(const np_timerq *q, uint32_t pos)
{
    return &q->wheel[(pos & ~WHEEL_BIT) >> WHEEL_IDX_BITS].e[pos & WHEEL_IDX_MASK];
}

/* Earlier time first; equal times in arming order. */
static inline bool before(const entry *a, const entry *b)
{
    if (a->time_ns != b->time_ns)
        return a->time_ns < b->time_ns;
    return a->seq < b->seq;
}

static inline void place(np_timerq *q, size_t i, entry e)
{
    q->heap[i] = e;
    q->pos[e.handle] = (uint32_t)i;
}

static void sift_up(np_timerq *q, size_t i)
{
    entry e = q->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / HEAP_ARITY;
        if (!before(&e, &q->heap[parent]))
            break;
        place(q, i, q->heap[parent]);
        i = parent;
    }
    place(q, i, e);
}

/* The index of slot i's earliest child; q->size when i has none. */
static size_t earliest_child(const np_timerq *q, size_t i)
{
    size_t first = i * HEAP_ARITY + 1;
    if (first >= q->size)
        return q->size;
    size_t last = first + HEAP_ARITY < q->size ? first + HEAP_ARITY : q->size;
    size_t best = first;
    for (size_t c = first + 1; c < last; c++)
        if (before(&q->heap[c], &q->heap[best]))
            best = c;
    return best;
}

static void sift_down(np_timerq *q, size_t i)
{
    entry e = q->heap[i];
    for (;;) {
        size_t best = earliest_child(q, i);
        if (best == q->size || !before(&q->heap[best], &e))
            break;
        place(q, i, q->heap[best]);
        i = best;
    }
    place(q, i, e);
}

/* Fill the hole at the root with `e` (size already counts it): walk the
 * hole down along the smallest children to a leaf, then bring e up from
 * there. e is usually late, so this saves comparing it at every level. */
static void refill_root(np_timerq *q, entry e)
{
    size_t hole = 0;
    for (;;) {
        size_t best = earliest_child(q, hole);
        if (best == q->size)
            break;
        place(q, hole, q->heap[best]);
        hole = best;
    }
    place(q, hole, e);
    sift_up(q, hole);
}

/* Complete a pop whose root no timer armed since has replaced: the last
 * entry fills the hole. */
static void settle(np_timerq *q)
{
    if (!q->root_popped)
        return;
    q->root_popped = false;
    if (--q->size)
        refill_root(q, q->heap[q->size]);
}

/* Puts e into the wheel slot of its bucket; false when the slot is full
 * or cannot grow (the caller puts e into the heap instead). */
static bool wheel_add(np_timerq *q, entry e)
{
    uint32_t k = (uint32_t)(bucket_of(e.time_ns) & (WHEEL_SLOTS - 1));
    slot *s = &q->wheel[k];

    if (s->n == s->cap) {
        if (s->cap >= WHEEL_SLOT_MAX)
            return false;
        uint32_t cap = s->cap ? s->cap * 2 : 16;
        if (cap > WHEEL_SLOT_MAX)
            cap = WHEEL_SLOT_MAX;
        entry *grown = realloc(s->e, cap * sizeof(*grown));
        if (!grown)
            return false;
        s->e = grown;
        s->cap = cap;
    }
    s->e[s->n] = e;
    q->pos[e.handle] = WHEEL_BIT | k << WHEEL_IDX_BITS | s->n;
    s->n++;
    q->wheel_used[k / 64] |= UINT64_C(1) << (k % 64);
    q->wheel_size++;
    return true;
}

/* Takes the entry at wheel position pos out (the slot's last entry fills
 * its place) and marks its handle unarmed. */
static void wheel_remove(np_timerq *q, uint32_t pos)
{
    uint32_t k = (pos & ~WHEEL_BIT) >> WHEEL_IDX_BITS, i = pos & WHEEL_IDX_MASK;
    slot *s = &q->wheel[k];

    q->pos[s->e[i].handle] = NOT_QUEUED;
    if (i != --s->n) {
        s->e[i] = s->e[s->n];
        q->pos[s->e[i].handle] = pos;
    }
    if (!s->n)
        q->wheel_used[k / 64] &= ~(UINT64_C(1) << (k % 64));
    q->wheel_size--;
}

/* Earliest bucket in the wheel (which is not empty): the first used slot
 * after the current bucket's, going round. */
static uint64_t wheel_next_bucket(const np_timerq *q)
{
    uint32_t from = (uint32_t)((q->cur_bucket + 1) & (WHEEL_SLOTS - 1));
    for (uint32_t step = 0; step <= WHEEL_WORDS; step++) {
        uint32_t w = (from / 64 + step) % WHEEL_WORDS;
        uint64_t bits = q->wheel_used[w];
        if (step == 0)
            bits &= ~UINT64_C(0) << (from % 64);
        else if (step == WHEEL_WORDS)
            bits &= (UINT64_C(1) << (from % 64)) - 1;
        if (bits) {
            uint32_t k = w * 64 + (uint32_t)__builtin_ctzll(bits);
            return q->cur_bucket + ((k - (uint32_t)q->cur_bucket) & (WHEEL_SLOTS - 1));
        }
    }
    return UINT64_MAX; /* not reached: the wheel is not empty */
}

static long earliest(const np_timerq *q);

/* Makes the heap's earliest entry the earliest of the queue and returns
 * its logical index (-1 when the queue is empty): when the heap holds
 * nothing of the current bucket or earlier, the current bucket moves to
 * the earliest of the heap's and the wheel's, and that bucket's wheel slot
 * empties into the heap. */
static long front(np_timerq *q)
{
    long i = earliest(q);
    uint64_t heap_bucket = i >= 0 ? bucket_of(q->heap[i].time_ns) : UINT64_MAX;
    if (heap_bucket <= q->cur_bucket)
        return i;
    uint64_t b = q->wheel_size ? wheel_next_bucket(q) : UINT64_MAX;
    if (heap_bucket < b) { /* the heap's next is earlier than the wheel's */
        q->cur_bucket = heap_bucket;
        return i;
    }
    if (b == UINT64_MAX)
        return -1; /* both empty */
    q->cur_bucket = b;
    settle(q);
    uint32_t k = (uint32_t)(b & (WHEEL_SLOTS - 1));
    slot *s = &q->wheel[k];
    for (uint32_t j = 0; j < s->n; j++) {
        place(q, q->size++, s->e[j]);
        sift_up(q, q->size - 1);
    }
    q->wheel_size -= s->n;
    s->n = 0;
    q->wheel_used[k / 64] &= ~(UINT64_C(1) << (k % 64));
    return 0;
}

static int alloc_slots(np_timerq *q, uint32_t nr_handles)
{
    size_t bytes = ((size_t)nr_handles + HEAP_PAD) * sizeof(entry);
    bytes = (bytes + HEAP_LINE - 1) / HEAP_LINE * HEAP_LINE; /* aligned_alloc wants a multiple */
    entry *slots = aligned_alloc(HEAP_LINE, bytes ? bytes : HEAP_LINE);
    if (!slots)
        return -ENOMEM;
    if (q->slots)
        memcpy(slots + HEAP_PAD, q->heap, q->size * sizeof(entry));
    free(q->slots);
    q->slots = slots;
    q->heap = slots + HEAP_PAD;
    return 0;
}

int np_timerq_create(uint32_t nr_handles, np_timerq **out)
{
    np_timerq *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->pos = malloc((nr_handles ? nr_handles : 1) * sizeof(*q->pos));
    q->wheel = calloc(WHEEL_SLOTS, sizeof(*q->wheel));
    if (!q->pos || !q->wheel || alloc_slots(q, nr_handles)) {
        np_timerq_destroy(q);
        return -ENOMEM;
    }
    for (uint32_t h = 0; h < nr_handles; h++)
        q->pos[h] = NOT_QUEUED;
    q->nr_handles = nr_handles;
    *out = q;
    return 0;
}

int np_timerq_grow(np_timerq *q, uint32_t nr_handles)
{
    uint32_t *pos;

    if (nr_handles <= q->nr_handles)
        return 0;
    pos = realloc(q->pos, nr_handles * sizeof(*pos));
    if (!pos)
        return -ENOMEM;
    q->pos = pos;
    if (alloc_slots(q, nr_handles))
        return -ENOMEM;
    for (uint32_t h = q->nr_handles; h < nr_handles; h++)
        q->pos[h] = NOT_QUEUED;
    q->nr_handles = nr_handles;
    return 0;
}

void np_timerq_destroy(np_timerq *q)
{
    if (!q)
        return;
    if (q->wheel)
        for (uint32_t k = 0; k < WHEEL_SLOTS; k++)
            free(q->wheel[k].e);
    free(q->wheel);
    free(q->slots);
    free(q->pos);
    free(q);
}

static int cmp_seq_ptr(const void *a, const void *b)
{
    uint32_t x = (*(entry *const *)a)->seq, y = (*(entry *const *)b)->seq;
    return x < y ? -1 : x > y;
}

/* Renumber queued entries 0..size-1 in seq order; false without memory. */
static bool renumber(np_timerq *q)
{
    size_t n = q->size + q->wheel_size, m = 0;
    entry **by_seq = malloc((n ? n : 1) * sizeof(*by_seq));
    if (!by_seq)
        return false;
    for (size_t i = 0; i < q->size; i++)
        by_seq[m++] = &q->heap[i];
    for (uint32_t k = 0; k < WHEEL_SLOTS; k++)
        for (uint32_t i = 0; i < q->wheel[k].n; i++)
            by_seq[m++] = &q->wheel[k].e[i];
    qsort(by_seq, n, sizeof(*by_seq), cmp_seq_ptr);
    for (size_t i = 0; i < n; i++)
        by_seq[i]->seq = (uint32_t)i;
    q->next_seq = (uint32_t)n;
    free(by_seq);
    return true;
}

void np_timerq_set(np_timerq *q, uint32_t handle, uint64_t time_ns)
{
    if (q->next_seq == UINT32_MAX) {
        settle(q);
        if (!renumber(q)) {
            /* Cannot renumber: seq stays saturated, ties then break by
             * position, still deterministically. */
            q->next_seq = UINT32_MAX - 1;
        }
    }
    entry e = {.time_ns = time_ns, .seq = q->next_seq++, .handle = handle};
    uint32_t i = q->pos[handle];
    uint64_t b = bucket_of(time_ns);
    bool to_wheel = b > q->cur_bucket && b - q->cur_bucket < WHEEL_SLOTS;

    if (in_wheel(i)) {
        wheel_remove(q, i);
        i = NOT_QUEUED;
    } else if (i != NOT_QUEUED && to_wheel) {
        np_timerq_cancel(q, handle);
        i = NOT_QUEUED;
    }
    if (i == NOT_QUEUED) {
        if (to_wheel && wheel_add(q, e))
            return;
        if (q->root_popped) { /* takes the popped root's place */
            q->root_popped = false;
            refill_root(q, e);
            return;
        }
        place(q, q->size++, e);
        sift_up(q, q->size - 1);
        return;
    }
    settle(q);
    i = q->pos[handle];
    /* The new seq is larger than any queued one, so the entry can only
     * move down when its time does not decrease. */
    bool up = time_ns < q->heap[i].time_ns;
    place(q, i, e);
    if (up)
        sift_up(q, i);
    else
        sift_down(q, i);
}

void np_timerq_cancel(np_timerq *q, uint32_t handle)
{
    if (q->pos[handle] == NOT_QUEUED)
        return;
    if (in_wheel(q->pos[handle])) {
        wheel_remove(q, q->pos[handle]);
        return;
    }
    settle(q);
    uint32_t i = q->pos[handle];
    q->pos[handle] = NOT_QUEUED;
    q->size--;
    if (i == q->size)
        return;
    entry moved = q->heap[q->size];
    place(q, i, moved);
    if (i > 0 && before(&moved, &q->heap[(i - 1) / HEAP_ARITY]))
        sift_up(q, i);
    else
        sift_down(q, i);
}

bool np_timerq_armed(const np_timerq *q, uint32_t handle)
{
    return q->pos[handle] != NOT_QUEUED;
}

uint64_t np_timerq_when(const np_timerq *q, uint32_t handle)
{
    uint32_t i = q->pos[handle];
    return in_wheel(i) ? wheel_entry(q, i)->time_ns : q->heap[i].time_ns;
}

size_t np_timerq_size(const np_timerq *q)
{
    return q->size - q->root_popped + q->wheel_size;
}

/* Logical index of the earliest queued entry, or -1 when none: with a
 * popped root, the smallest of its children (what settling would bring
 * up), found without moving anything. */
static long earliest(const np_timerq *q)
{
    if (!q->root_popped)
        return q->size ? 0 : -1;
    size_t end = q->size < HEAP_ARITY + 1 ? q->size : HEAP_ARITY + 1;
    long best = -1;
    for (size_t c = 1; c < end; c++)
        if (best < 0 || before(&q->heap[c], &q->heap[best]))
            best = (long)c;
    return best;
}

bool np_timerq_peek(np_timerq *q, uint64_t *time_out)
{
    long i = front(q);
    if (i < 0)
        return false;
    *time_out = q->heap[i].time_ns;
    return true;
}

uint32_t np_timerq_peek_handle(np_timerq *q)
{
    long i = front(q);
    return i < 0 ? UINT32_MAX : q->heap[i].handle;
}

/* The popped root stays in place until the next arm, which usually comes
 * at once (the event's handler re-arms a timer) and then takes its place:
 * one walk down the heap instead of a pop's and an insert's. Every other
 * operation settles the pop first. The order of events is the same either
 * way: (time, seq) orders all entries, whatever the heap's shape. */
bool np_timerq_pop(np_timerq *q, uint32_t *handle_out, uint64_t *time_out)
{
    return np_timerq_pop_until(q, UINT64_MAX, handle_out, time_out);
}

bool np_timerq_pop_until(np_timerq *q, uint64_t until_ns, uint32_t *handle_out,
                         uint64_t *time_out)
{
    settle(q);
    if (front(q) < 0 || q->heap[0].time_ns > until_ns)
        return false;
    entry top = q->heap[0];
    *handle_out = top.handle;
    *time_out = top.time_ns;
    q->pos[top.handle] = NOT_QUEUED;
    q->root_popped = true;
    return true;
}
