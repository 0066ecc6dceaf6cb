"""``python -m bot.text``: build jieba's and pypinyin's tables now (``bot.text.tables``),
e.g. while building an image, and print the directory that holds them."""

from __future__ import annotations

from bot.text import pinyin_tables, tables
from bot.text.segmenter import Segmenter


def main() -> None:
    pinyin_tables.tables()
    Segmenter().initialize()
    print(tables.cache_dir() or "no usable cache directory: the tables are built at every start")


if __name__ == "__main__":
    main()
