#!/usr/bin/env python3
"""test/check_headers.py: the helper/ sources' headers and the graph they make.

1. Every helper/**/X.h that has an X.c beside it declares only functions
   X.c defines (or X.h defines inline): a reader looks for a function
   where its header says, and a stale declaration hides a deleted one.
2. No cycle in the #include graph of helper/ files.
3. No cycle between helper/ .c files, where A.c -> B.c when A.c uses a
   function that a header in A.c's include closure declares and B.c
   defines. The folders are layered libraries (helper/meson.build); inside
   one, files that need each other are one file in two pieces, and the
   build would not notice.

Prints every problem and exits 1 when there is one. A C-lite reader:
comments, strings and preprocessor lines are dropped, then top-level
statements are split on braces and semicolons; enough for this tree's
style (clang-format, one declaration per statement).
Usage: test/check_headers.py [ROOT]  (ROOT defaults to the repository)
"""
import os
import re
import sys

IDENT = re.compile(r"[A-Za-z_]\w*")
ATTR_TAIL = re.compile(r"__attribute__\s*\(\(.*\)\)\s*$", re.S)
NOT_FUNCTIONS = {"if", "while", "for", "switch", "return", "sizeof", "_Static_assert",
                 "static_assert", "__attribute__", "defined"}


def strip_code(text):
    """Text without comments, string/char literals and preprocessor lines;
    newlines kept so nothing runs together."""
    out = []
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c == "#":
            # a directive, with its continuation lines
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    i += 1
                i += 1
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j) or " ")
            i = j
            continue
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
            at_line_start = False
            continue
        out.append(c)
        if c == "\n":
            at_line_start = True
        elif not c.isspace():
            at_line_start = False
        i += 1
    return "".join(out)


def includes(text):
    return re.findall(r'^\s*#\s*include\s*"([^"]+)"', text, re.M)


def function_name(head):
    """The name of the function a top-level head ("int f(int a)",
    "void g(void) __attribute__((x))") declares or defines, else None."""
    head = ATTR_TAIL.sub("", head.strip()).rstrip()
    if not head.endswith(")") or "=" in head or head.startswith("typedef"):
        return None
    depth = 0
    for i in range(len(head) - 1, -1, -1):
        if head[i] == ")":
            depth += 1
        elif head[i] == "(":
            depth -= 1
            if depth == 0:
                m = re.search(r"([A-Za-z_]\w*)\s*$", head[:i])
                if not m or m.group(1) in NOT_FUNCTIONS:
                    return None
                return m.group(1)
    return None


def top_level(code):
    """(declared, defined, static_defined): function names declared by
    top-level statements, and defined with a body (static ones apart)."""
    declared, defined, static_defined = set(), set(), set()
    depth, start, body_of = 0, 0, None
    for i, c in enumerate(code):
        if c == "{":
            if depth == 0:
                head = code[start:i]
                name = function_name(head)
                body_of = None
                if name:
                    is_static = re.match(r"\s*(static|inline\s+static)\b", head)
                    (static_defined if is_static else defined).add(name)
                    body_of = name
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0 and body_of:
                start, body_of = i + 1, None
        elif c == ";" and depth == 0:
            name = function_name(code[start:i])
            if name and not re.match(r"\s*static\b", code[start:i]):
                declared.add(name)
            start = i + 1
    return declared, defined, static_defined


class Tree:
    def __init__(self, root):
        self.root = root
        self.files = {}  # path relative to root -> stripped code
        self.incs = {}   # path -> included paths under helper/
        by_name = {}
        raw = {}
        for d, _, names in os.walk(os.path.join(root, "helper")):
            for f in sorted(names):
                if f.endswith((".c", ".h")):
                    p = os.path.relpath(os.path.join(d, f), root)
                    with open(os.path.join(root, p), encoding="utf-8") as fh:
                        raw[p] = fh.read()
                    by_name.setdefault(f, []).append(p)
        for p, text in raw.items():
            self.files[p] = strip_code(text)
            res = []
            for name in includes(text):
                near = os.path.normpath(os.path.join(os.path.dirname(p), name))
                if near in raw:
                    res.append(near)
                elif len(by_name.get(os.path.basename(name), [])) == 1:
                    res.append(by_name[os.path.basename(name)][0])
                # otherwise not ours (generated, checks/, the system)
            self.incs[p] = res
        self.decl, self.defs, self.static = {}, {}, {}
        for p, code in self.files.items():
            self.decl[p], self.defs[p], self.static[p] = top_level(code)

    def closure(self, p):
        seen, todo = set(), list(self.incs[p])
        while todo:
            q = todo.pop()
            if q not in seen:
                seen.add(q)
                todo.extend(self.incs[q])
        return seen


def cycles(nodes, edges):
    """Strongly connected components with more than one node (Tarjan),
    each as a list of nodes in a cycle order."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def cycle_path(comp, edges):
    """One cycle through comp's first node, for the report."""
    members = set(comp)
    start = comp[0]
    prev, todo = {start: None}, [start]
    while todo:
        v = todo.pop(0)
        for w in sorted(edges.get(v, ())):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w in members and w not in prev:
                prev[w] = v
                todo.append(w)
    return comp


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    t = Tree(os.path.normpath(root))
    problems = []

    for h in sorted(p for p in t.files if p.endswith(".h")):
        c = h[:-2] + ".c"
        if c not in t.files:
            continue
        for f in sorted(t.decl[h] - t.defs[c] - t.defs[h] - t.static[h]):
            problems.append(f"{h}: declares {f}(), which {os.path.basename(c)} does not define")

    for comp in cycles(t.files, {p: set(q) for p, q in t.incs.items()}):
        path = cycle_path(comp, {p: set(q) for p, q in t.incs.items()})
        problems.append("include cycle: " + " -> ".join(path))

    definer = {}
    for p in t.files:
        if p.endswith(".c"):
            for f in t.defs[p]:
                definer.setdefault(f, set()).add(p)
    uses = {}  # (a, b) -> functions a uses that b defines
    for a in (p for p in t.files if p.endswith(".c")):
        words = set(IDENT.findall(t.files[a]))
        for h in t.closure(a):
            for f in t.decl[h] & words:
                for b in definer.get(f, ()):
                    if b != a:
                        uses.setdefault((a, b), set()).add(f)
    edges = {}
    for a, b in uses:
        edges.setdefault(a, set()).add(b)
    for comp in cycles([p for p in t.files if p.endswith(".c")], edges):
        inside = [f"\n  {a} -> {b}: {', '.join(sorted(uses[(a, b)]))}"
                  for a in comp for b in sorted(edges.get(a, ())) if b in comp]
        problems.append("file cycle among " + ", ".join(comp) + ":" + "".join(inside))

    for p in problems:
        print(p)
    n_h = sum(1 for p in t.files if p.endswith(".h"))
    n_c = len(t.files) - n_h
    print(f"check_headers: {n_h} headers, {n_c} .c files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
