"""Regenerates data/common_words.tsv from wordfreq (a dev-only dependency; the runtime reads the file)."""

from __future__ import annotations

from pathlib import Path

LANGUAGES = ("en", "de", "fr", "nl", "es", "it")
MIN_ZIPF = 4.0
TARGET = Path(__file__).with_name("data") / "common_words.tsv"


def build() -> dict[str, float]:
    import wordfreq

    words: dict[str, float] = {}
    for lang in LANGUAGES:
        for word in wordfreq.iter_wordlist(lang):
            zipf = wordfreq.zipf_frequency(word, lang)
            if zipf < MIN_ZIPF:
                break
            if zipf > words.get(word, 0.0):
                words[word] = zipf
    return words


def main() -> None:
    words = build()
    TARGET.write_text("".join(f"{w}\t{z:.2f}\n" for w, z in sorted(words.items())), encoding="utf-8")
    print(f"wrote {len(words)} words to {TARGET}")


if __name__ == "__main__":
    main()
