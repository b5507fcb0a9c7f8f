#!/usr/bin/python3
"""The Markdown a user reads renders as written: every code fence closed, every
relative link pointing at a file or folder of the repository (and, with a
#fragment, at a heading of that file; a bare #fragment at a heading of the
file it is in).

Usage: docs_check.py SOURCE_DIR
"""
import glob
import os
import re
import sys

source = sys.argv[1]
# The README, every page under docs/ (the user guide in docs/guide/ included)
# and the README of each top-level folder (analysis/, notebooks/), but not
# those of build or output trees.
files = ([os.path.join(source, "README.md")]
         + sorted(glob.glob(os.path.join(source, "docs", "**", "*.md"), recursive=True))
         + sorted(p for p in glob.glob(os.path.join(source, "*", "README.md"))
                  if not re.match(r"(build|out)", os.path.basename(os.path.dirname(p)))))
failures = []


def anchors(path):
    """GitHub's heading anchors of a Markdown file."""
    out = set()
    fence = None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^\s*(```+|~~~+)", line)
        if m:
            fence = None if fence and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) else (fence or m.group(1))
            continue
        if fence:
            continue
        h = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if h:
            text = re.sub(r"[`*_]", "", h.group(1)).strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return out


for path in files:
    rel = os.path.relpath(path, source)
    fence = None  # the opening fence, while inside one
    fence_line = 0
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        m = re.match(r"^\s*(```+|~~~+)", line)
        if m:
            mark = m.group(1)
            if fence is None:
                fence, fence_line = mark, n
            elif mark[0] == fence[0] and len(mark) >= len(fence) and not line.strip()[len(mark):].strip():
                fence = None
            continue
        if fence:
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # a URL
            if target.startswith("#"):
                if target[1:].lower() not in anchors(path):
                    failures.append(f"{rel}:{n}: link to {target}: no heading {target} in this file")
                continue
            file_part, _, frag = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part))
            if not os.path.exists(dest):
                failures.append(f"{rel}:{n}: link to {target}: no such file")
            elif frag and dest.endswith(".md") and frag.lower() not in anchors(dest):
                failures.append(f"{rel}:{n}: link to {target}: no heading #{frag} there")
    if fence is not None:
        failures.append(f"{rel}:{fence_line}: code fence {fence} never closed")

for f in failures:
    print("FAIL:", f)
print(f"{len(files)} Markdown files checked; {len(failures)} failures")
sys.exit(1 if failures else 0)
