"""Listing pages per second per core: the real-market adapters (selectolax/lexbor) against a
BeautifulSoup implementation of the same fields, measured side by side in one process.

Pages: the saved listing pages of Empire, Cryptonia, Dream and Apollon, read in place from
``../shared/data/real/darknet-html-magnublo`` (honours ``DNMWATCH_SHARED_DIR``; never copied).
The baseline reads the same fields (listing id, title, vendor, price and currency, ships
from/to, stock, sold) with ``bs4`` + ``html.parser``, the usual first scraper; it is also an
independent second reading, so the share of fields on which both agree is printed too (vendor
handles are compared, never printed).

    .venv/bin/python bench/bench_adapters.py [--seconds S]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, Tag

from dnmwatch.adapters.html import clean, parse_int, parse_money
from dnmwatch.adapters.registry import load_registry
from dnmwatch.pseudonym import Pseudonymizer
from dnmwatch.records import ListingObservation, Page

PSEUD = Pseudonymizer(bytes(32))
FIELDS = ("listing_id", "title", "vendor_id", "price", "currency", "ships_from", "ships_to",
          "stock", "sold")
Fields = dict[str, Any]


def _shared() -> Path:
    env = os.environ.get("DNMWATCH_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"


def _text(node: Tag | None) -> str:
    return clean(node.get_text(" ")) if node is not None else ""


# --- the BeautifulSoup baseline, one reader per market --------------------------------------
def bs_empire(soup: BeautifulSoup) -> Fields:
    info = soup.select_one("div.listDes")
    cells: dict[str, str] = {}
    for tr in soup.select("table.productTbl tbody tr"):
        tds = tr.find_all("td")
        for i in range(0, len(tds) - 1, 2):
            cells.setdefault(_text(tds[i]).casefold(), _text(tds[i + 1]))
    lid = next((m.group(1) for a in soup.find_all("a", href=True)
                if (m := re.search(r"/(?:addFavorite_listing|markalert|reportPage|setTab)/(\d+)",
                                   str(a["href"])))), None)
    sold = next((_text(s) for s in info.find_all("span") if "sold since" in _text(s)), "") \
        if info else ""
    price, cur = parse_money(_text(soup.select_one("div.listDes p.padp span")))
    return {"listing_id": lid, "title": _text(soup.select_one("div.listDes h2")),
            "vendor": _text(info.select_one('a[href*="/u/"]')) if info else "",
            "price": price, "currency": cur, "ships_from": cells.get("origin country"),
            "ships_to": cells.get("ships to"), "stock": parse_int(cells.get("quantity left")),
            "sold": parse_int(sold)}


def bs_cryptonia(soup: BeautifulSoup) -> Fields:
    data: dict[str, Tag] = {}
    for block in soup.select("div.product_details div.product_data"):
        label = block.find("label")
        if label is not None:
            data.setdefault(_text(label).rstrip(": ").casefold(), block)
    report = soup.select_one('a[href*="Reporting+product"]')
    lid = re.search(r"%23(\d+)", str(report["href"])) if report is not None else None
    route = _text(data["ships from"].select_one("div.lbllist")) if "ships from" in data else ""
    src, _, dst = route.partition("→")
    stock = _text(data["in stock"].find("span")) if "in stock" in data else ""
    price, cur = parse_money(_text(data["price"].find("span")) if "price" in data else "")
    seller = data.get("sold by")
    return {"listing_id": lid.group(1) if lid else None,
            "title": _text(soup.select_one("div.mainarea_inner h2")),
            "vendor": _text(seller.select_one('a[href^="/user/"]')) if seller else "",
            "price": price, "currency": cur, "ships_from": src.strip() or None,
            "ships_to": dst.strip() or None,
            "stock": int(m.group(1)) if (m := re.match(r"\s*(\d+)", stock)) else None,
            "sold": None}


def bs_dream(soup: BeautifulSoup) -> Fields:
    rows: dict[str, Tag] = {}
    for div in soup.select("div.tabularDetails > div"):
        label = div.find("label")
        if label is not None:
            rows.setdefault(_text(label).casefold(), div)

    def value(name: str) -> str:
        return _text(rows[name].find("span")) if name in rows else ""

    offer = soup.find("input", attrs={"name": "offer"})
    price, cur = parse_money(value("price"))
    vendor = rows.get("vendor")
    return {"listing_id": offer["value"] if offer is not None else None,
            "title": _text(soup.select_one("div.viewProduct > div.title")),
            "vendor": _text(vendor.select_one('a[href*="member="]')) if vendor else "",
            "price": price, "currency": cur, "ships_from": value("ships from") or None,
            "ships_to": value("ships to") or None, "stock": None, "sold": None}


def bs_apollon(soup: BeautifulSoup) -> Fields:
    table = soup.select_one("div.panel-body table.table")
    fields: dict[str, str] = {}
    for bold in table.find_all("b") if table is not None else []:
        shown = _text(bold)
        if not shown.endswith(":"):
            continue
        holder = bold.find_parent(["small", "span", "p", "div"])
        if holder is not None and holder.name == "span" and holder.parent is not None \
                and holder.parent.name == "small":
            holder = holder.parent
        text = _text(holder)
        val = text[text.find(shown) + len(shown):].strip(" :") if shown in text else ""
        if not val and holder is not None:
            nxt = holder.find_next_sibling()
            val = _text(nxt)
        fields.setdefault(shown.rstrip(" :").casefold(), val)
    fav = soup.select_one('a[href*="fvlst=1"]')
    lid = re.search(r"ls_id=(\d+)", str(fav["href"])) if fav is not None else None
    sale = next((_text(s) for s in soup.find_all("span") if _text(s).startswith("Sale Price")), "")
    price, cur = parse_money(sale.partition(":")[2])
    vendor = _text(table.select_one('a[href^="user.php?u_id="]')) if table is not None else ""
    return {"listing_id": lid.group(1) if lid else None,
            "title": _text(table.select_one('a[href^="?ls_id="]')) if table is not None else "",
            "vendor": re.sub(r"\s*\([^()]*\)\s*$", "", vendor), "price": price,
            "currency": cur, "ships_from": fields.get("origin country") or None,
            "ships_to": fields.get("ship to") or None, "stock": parse_int(fields.get("quantity")),
            "sold": parse_int(fields.get("sold"))}


BASELINES: dict[str, Callable[[BeautifulSoup], Fields]] = {
    "empire": bs_empire, "cryptonia": bs_cryptonia, "dream": bs_dream, "apollon": bs_apollon}


def listing_pages(root: Path) -> list[tuple[str, Page]]:
    now = datetime(2019, 11, 1, tzinfo=UTC)
    out = []
    for market in BASELINES:
        for path in sorted((root / market / "html_files").glob("listings/*")):
            if path.is_file():
                out.append((market, Page(url="http://bench.onion/listing", captured_at=now,
                                         body=path.read_bytes())))
    return out


def run_selectolax(pages: list[tuple[str, Page]]) -> list[Fields]:
    registry = load_registry(plugins=False)
    adapters = {m: registry.create(m, PSEUD) for m in BASELINES}
    out = []
    for market, page in pages:
        rec = next((r for r in adapters[market].parse(page)
                    if isinstance(r, ListingObservation)), None)
        out.append({f: getattr(rec, f) for f in FIELDS} if rec is not None else {})
    return out


def run_bs4(pages: list[tuple[str, Page]]) -> list[Fields]:
    out = []
    for market, page in pages:
        soup = BeautifulSoup(page.body.decode("utf-8", "replace"), "html.parser")
        fields = BASELINES[market](soup)
        fields["vendor_id"] = PSEUD.vendor_id(fields.pop("vendor")) if fields["vendor"] \
            else None
        out.append(fields)
    return out


def rate(fn: Callable[[list[tuple[str, Page]]], list[Fields]], pages: list[tuple[str, Page]],
         seconds: float) -> tuple[float, list[Fields]]:
    """Pages per second of ``fn`` on one core: whole passes until ``seconds`` have elapsed."""
    result = fn(pages)  # warm-up (imports, caches) and the result to compare
    done, start = 0, time.process_time()
    while True:
        fn(pages)
        done += len(pages)
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return done / elapsed, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="CPU seconds per parser")
    args = parser.parse_args(argv)
    root = _shared() / "data" / "real" / "darknet-html-magnublo"
    pages = listing_pages(root)
    if not pages:
        print(f"no listing pages under {root}: nothing to measure", file=sys.stderr)
        return 1
    size = sum(len(p.body) for _, p in pages) / len(pages)
    fast, ours = rate(run_selectolax, pages, args.seconds)
    slow, theirs = rate(run_bs4, pages, args.seconds)
    agree = {f: sum(a.get(f) == b.get(f) for a, b in zip(ours, theirs, strict=True)) / len(pages)
             for f in FIELDS}
    print(f"listing pages: {len(pages)} ({', '.join(sorted(BASELINES))}), "
          f"mean {size / 1024:.1f} KiB")
    print(f"selectolax adapters : {fast:8.1f} pages/s per core")
    print(f"BeautifulSoup (html.parser): {slow:8.1f} pages/s per core")
    print(f"ratio: {fast / slow:.1f}x")
    print("fields agreeing between the two readings: "
          + ", ".join(f"{f}={v:.2f}" for f, v in agree.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
