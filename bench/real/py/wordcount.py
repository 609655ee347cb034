# wordcount.py — make a text of N pseudo-random words, split it and count the words in a dict;
# prints the distinct words and sum(count * length).
import sys

syl = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "da",
       "xo", "bu", "fe", "gi", "ho", "ju", "ly", "qu", "ze", "wa"]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    words = []
    seed = 7
    for _ in range(n):
        seed = (seed * 16807) % 2147483647
        r = seed % 8000
        w = syl[r % 20] + syl[(r // 20) % 20]
        if r >= 400:
            w = w + syl[(r // 400) % 20]
        words.append(w)
    text = " ".join(words)
    counts = {}
    for w in text.split(" "):
        if w in counts:
            counts[w] = counts[w] + 1
        else:
            counts[w] = 1
    distinct = 0
    weighted = 0
    for w, c in counts.items():
        distinct += 1
        weighted += c * len(w)
    print(distinct, weighted)


main()
