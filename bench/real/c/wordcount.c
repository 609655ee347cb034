/* wordcount.c — make a text of N pseudo-random words, split it and count the words in a hash
 * table (open addressing, FNV-1a); prints the distinct words and sum(count * length). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *syl[20] = { "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "da",
                               "xo", "bu", "fe", "gi", "ho", "ju", "ly", "qu", "ze", "wa" };

typedef struct { char *key; size_t len; long count; } slot;

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ull; }
    return h;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    char *text = malloc((size_t)n * 7 + 1), *p = text;
    long seed = 7;
    for (long i = 0; i < n; i++) {
        seed = (seed * 16807) % 2147483647;
        long r = seed % 8000;
        if (i) *p++ = ' ';
        memcpy(p, syl[r % 20], 2); p += 2;
        memcpy(p, syl[(r / 20) % 20], 2); p += 2;
        if (r >= 400) { memcpy(p, syl[(r / 400) % 20], 2); p += 2; }
    }
    *p = '\0';
    size_t cap = 1 << 14, distinct = 0;
    slot *tab = calloc(cap, sizeof *tab);
    for (char *s = text; *s;) {
        char *e = strchr(s, ' ');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        size_t h = fnv(s, len) & (cap - 1);
        while (tab[h].key && !(tab[h].len == len && memcmp(tab[h].key, s, len) == 0)) h = (h + 1) & (cap - 1);
        if (!tab[h].key) { tab[h].key = s; tab[h].len = len; distinct++; }
        tab[h].count++;
        s += len + (e ? 1 : 0);
    }
    long weighted = 0;
    for (size_t i = 0; i < cap; i++) if (tab[i].key) weighted += tab[i].count * (long)tab[i].len;
    printf("%zu %ld\n", distinct, weighted);
    free(tab);
    free(text);
    return 0;
}
