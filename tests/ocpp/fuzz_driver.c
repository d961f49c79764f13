/*
 * fuzz_driver.c - runs LLVMFuzzerTestOneInput without libFuzzer, so the fuzz target runs in every
 * `meson test` (and under ASan): each file of the seed corpus, then a bounded number of seeded random
 * mutations of them (deterministic: the same seed finds the same inputs).
 * Usage: fuzz_driver CORPUS_DIR [ITERATIONS] [SEED]
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SEEDS 256
#define FUZZ_MAX_INPUT 8192
#define TIME_LIMIT_S 40 /* a hard stop, well inside the suite budget even under sanitizers */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const char *const tokens[] = {
    "\"", "[", "]", "{", "}", ",", ":", "2", "3", "4", "-1", "1.0", "8.1", "1e999", "-0", "null", "true",
    "\"\\u0000\"", "\"\\ud800\"", "\"abcdefghijklmnopqrstuvwxyz0123456789X\"", "\"Heartbeat\"",
    "\"BootNotification\"", "\"SetChargingProfile\"", "\"TransactionEvent\"", "\"2026-02-30T00:00:00Z\"",
    "\"\xc3\xa9\xe2\x82\xac\"", "{\"customData\":{\"vendorId\":\"x\"}}", "[[[[[[[[", "\"f1\"", "\"status\"",
};

static size_t mutate(uint8_t *buf, size_t len, const uint8_t *other, size_t olen)
{
    int rounds = 1 + (int)(rnd() % 4);
    for (int r = 0; r < rounds; r++) {
        size_t pos = len ? (size_t)(rnd() % (len + 1)) : 0;
        switch (rnd() % 6) {
        case 0: /* flip a bit */
            if (len)
                buf[pos % len] ^= (uint8_t)(1u << (rnd() % 8));
            break;
        case 1: /* random byte */
            if (len)
                buf[pos % len] = (uint8_t)rnd();
            break;
        case 2: { /* delete a run */
            size_t n = (size_t)(rnd() % 8);
            if (pos + n > len)
                n = len - pos;
            memmove(buf + pos, buf + pos + n, len - pos - n);
            len -= n;
            break;
        }
        case 3: case 4: { /* insert a JSON-ish token */
            const char *t = tokens[rnd() % (sizeof tokens / sizeof tokens[0])];
            size_t n = strlen(t);
            if (len + n > FUZZ_MAX_INPUT)
                break;
            memmove(buf + pos + n, buf + pos, len - pos);
            memcpy(buf + pos, t, n);
            len += n;
            break;
        }
        default: { /* splice: keep our head, take another seed's tail */
            if (!olen)
                break;
            size_t from = (size_t)(rnd() % olen);
            size_t n = olen - from;
            if (pos + n > FUZZ_MAX_INPUT)
                n = FUZZ_MAX_INPUT - pos;
            memcpy(buf + pos, other + from, n);
            len = pos + n;
            break;
        }
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS] [SEED]\n", argv[0]);
        return 2;
    }
    long iterations = argc > 2 ? atol(argv[2]) : 20000;
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 10) : 0x5eed0cbbULL;
    if (!rng_state)
        rng_state = 1;
    static uint8_t *seeds[MAX_SEEDS];
    static size_t seed_len[MAX_SEEDS];
    int n = 0;
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "cannot open corpus %s\n", argv[1]);
        return 2;
    }
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_SEEDS) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        seeds[n] = malloc(FUZZ_MAX_INPUT);
        seed_len[n] = fread(seeds[n], 1, FUZZ_MAX_INPUT, f);
        fclose(f);
        LLVMFuzzerTestOneInput(seeds[n], seed_len[n]);
        n++;
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "empty corpus %s\n", argv[1]);
        return 2;
    }
    printf("ok   corpus: %d seed inputs ran\n", n);
    uint8_t *buf = malloc(FUZZ_MAX_INPUT);
    time_t start = time(NULL);
    long done = 0;
    for (; done < iterations; done++) {
        if ((done & 255) == 0 && time(NULL) - start > TIME_LIMIT_S)
            break;
        int a = (int)(rnd() % (uint64_t)n), b = (int)(rnd() % (uint64_t)n);
        memcpy(buf, seeds[a], seed_len[a]);
        size_t len = mutate(buf, seed_len[a], seeds[b], seed_len[b]);
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("ok   mutations: %ld of %ld ran without a crash, leak or broken output frame\n", done, iterations);
    free(buf);
    for (int i = 0; i < n; i++)
        free(seeds[i]);
    return 0;
}
