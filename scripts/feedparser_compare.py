#!/usr/bin/env python3
"""Compares what refeed reads from each feed fixture with what Python's feedparser reads.

For every file: the entries each finds, and, entry by entry (both in document order), the
agreement of title, link, author, categories, published date, enclosures and whether there is
content. Values are compared as a reader shows them: tags stripped, entities decoded,
whitespace collapsed; authors by name; dates to the second in UTC.

usage: feedparser_compare.py REFEED_BINARY FILE...
"""
import calendar
import html
import json
import re
import os
import subprocess
import sys
import tempfile
import urllib.parse

import feedparser

BASE = "https://conformance.example/feed"
FIELDS = ["title", "link", "author", "categories", "published", "enclosures", "content"]


def text(s):
    """feedparser's text fields may hold HTML: tags stripped, entities decoded."""
    if s is None:
        return ""
    s = re.sub(r"<[^>]+>", " ", s)
    s = html.unescape(s)
    return " ".join(s.split())


def plain(s):
    """refeed's titles, authors and categories are plain text already."""
    return " ".join((s or "").split())


def url(s):
    """A URL as a reader compares it: a bare host gets its root slash."""
    if not s:
        return ""
    parts = urllib.parse.urlsplit(s)
    if parts.scheme in ("http", "https") and parts.path == "":
        parts = parts._replace(path="/")
    return urllib.parse.urlunsplit(parts)


def fp_author(e):
    detail = e.get("author_detail") or {}
    name = detail.get("name") or e.get("author") or ""
    return text(name)


def fp_date(e):
    t = e.get("published_parsed") or e.get("updated_parsed")
    return calendar.timegm(t) if t else None


def refeed_date(s):
    if not s:
        return None
    import datetime

    return int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


def fp_text(e, key):
    """A feedparser text field: HTML when its detail says so, else plain text."""
    detail = e.get(key + "_detail") or {}
    value = e.get(key)
    return text(value) if "html" in (detail.get("type") or "html") else plain(value)


def fields_feedparser(e):
    return {
        "title": fp_text(e, "title"),
        "link": url(e.get("link")),
        "author": fp_author(e),
        "categories": sorted({text(t.get("label") or t.get("term")) for t in e.get("tags", []) if (t.get("label") or t.get("term"))}),
        "published": fp_date(e),
        "enclosures": sorted({urllib.parse.urljoin(BASE, x.get("href")) for x in e.get("enclosures", []) if x.get("href")}),
        "content": bool(text((e.get("content") or [{}])[0].get("value")) or text(e.get("summary"))),
    }


def fields_refeed(e):
    return {
        "title": plain(e.get("title")),
        "link": url(e.get("url")),
        "author": plain(e.get("author")),
        "categories": sorted({plain(c) for c in e.get("categories", [])}),
        "published": refeed_date(e.get("published")),
        "enclosures": sorted({x["url"] for x in e.get("enclosures", [])}),
        "content": bool(text(e.get("content")) or text(e.get("summary"))),
    }


def main():
    binary, files = sys.argv[1], sys.argv[2:]
    totals = {"refeed": 0, "feedparser": 0, "files": 0}
    if not files:
        sys.exit("usage: feedparser_compare.py REFEED_BINARY FILE...")
    agree = {f: [0, 0] for f in FIELDS}
    for path in files:
        if path.endswith(".json"):
            # feedparser 6 has no JSON Feed support: nothing to compare with.
            print(f"{path}: skipped (feedparser does not read JSON Feed)")
            continue
        with open(path, "rb") as fh:
            data = fh.read().replace(b"{{BASE}}", b"https://origin.example")
        with tempfile.NamedTemporaryFile(suffix=os.path.splitext(path)[1], delete=False) as tmp:
            tmp.write(data)
        out = subprocess.run([binary, "parse", tmp.name, "--base-url", BASE], capture_output=True, text=True)
        os.unlink(tmp.name)
        ours = json.loads(out.stdout)["entries"] if out.returncode == 0 else []
        parsed = feedparser.parse(data, response_headers={"content-location": BASE})
        theirs = parsed.entries
        totals["files"] += 1
        totals["refeed"] += len(ours)
        totals["feedparser"] += len(theirs)
        diffs = []
        for i, (a, b) in enumerate(zip(ours, theirs)):
            fa, fb = fields_refeed(a), fields_feedparser(b)
            for f in FIELDS:
                # A field neither reader has is not an agreement worth counting.
                if not fa[f] and not fb[f]:
                    continue
                agree[f][1] += 1
                if fa[f] == fb[f]:
                    agree[f][0] += 1
                else:
                    diffs.append(f"    entry {i} {f}: refeed {fa[f]!r} / feedparser {fb[f]!r}")
        mark = "" if len(ours) == len(theirs) else "   <-- entry counts differ"
        print(f"{path}: refeed {len(ours)}, feedparser {len(theirs)} (bozo {int(bool(parsed.bozo))}){mark}")
        for d in diffs:
            print(d)
    print()
    print(f"files {totals['files']}: entries published by refeed {totals['refeed']}, found by feedparser {totals['feedparser']}")
    for f in FIELDS:
        same, n = agree[f]
        share = f"{100 * same / n:.1f}%" if n else "n/a"
        print(f"  {f:<11} agree {same}/{n} ({share})")


if __name__ == "__main__":
    main()
