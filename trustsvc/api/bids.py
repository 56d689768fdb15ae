"""A bid is several files: which of them are signatures, and which file each detached signature signs.

Platforms send a bid as it was submitted: ``offer.pdf`` (a PAdES), ``price.xlsx`` with ``price.xlsx.p7s`` (a
detached CAdES) or ``price.xlsx.tsr`` (a time-stamp), an unsigned annex. A detached signature is paired with the
file whose name it extends, and that file is its content. Every file is then validated on its own as well: a
content file that carries no signature of its own is simply content, any other file without a signature is
reported unsigned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["BidItem", "pair_bid_files", "DETACHED_SUFFIXES"]

#: Extensions of detached signatures and time-stamp tokens, appended to the name of the file they sign.
DETACHED_SUFFIXES = (".p7s", ".tsr", ".tst", ".sig")


@dataclass
class BidItem:
    """One file to validate, with the files it signs (for a detached signature)."""

    index: int
    name: str
    contents: list[int] = field(default_factory=list)


def pair_bid_files(names: list[str]) -> tuple[list[BidItem], set[int]]:
    """Every file (in upload order) with the files it signs detached, and the indexes of the signed contents."""
    by_name: dict[str, int] = {}
    for index, name in enumerate(names):
        by_name.setdefault(name, index)
    items: list[BidItem] = []
    contents: set[int] = set()
    for index, name in enumerate(names):
        item = BidItem(index, name)
        lowered = name.lower()
        for suffix in DETACHED_SUFFIXES:
            if lowered.endswith(suffix) and len(name) > len(suffix):
                content = by_name.get(name[: -len(suffix)])
                if content is not None and content != index:
                    item.contents.append(content)
                    contents.add(content)
                break
        items.append(item)
    return items, contents
