#!/usr/bin/env python3
"""layers.py - draw and check the layering of src/.

    tools/layers.py [--cc CC] [--dot FILE] [SRCDIR]

The layers of uma, bottom to top, are the table LAYERS below (the map in
src/uma_int.h says what each is).  Two graphs of src/ are read:

  includes  each file's #include "x.h"; a header belongs to the layer of
            the .c file it declares (its stem), or to the one named here;
  calls     gcc -fcallgraph-info on every .c file: file A calls file B
            when a function defined in A calls one defined in B.

and checked:

  1. No include goes up: a file includes only headers of its own layer or
     of layers below it.  The one exception is the door to uma's own
     zones (internal.h), which the keg and slab layers below it include:
     the internal-zone recursion (src/internal.h).
  2. The call graph of files has no cycle other than that recursion: the
     only strongly connected component with more than one file is the one
     through internal.c, and it holds only the files the recursion needs.

It prints the layers with each file's includes and calls, and exits 1 with
one line per violation.  --dot writes the file graph for Graphviz
(`dot -Tsvg`), one rank per layer.  The test suite runs it (ctest layers).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

# Bottom to top.  A name is a file stem: foo means foo.c and foo.h.
LAYERS = [
    ("leaves", ["lock", "queue", "kthread", "panic", "sysctl",
                "sysctl_int", "tunable", "uma_int"]),
    ("pages", ["vmmap", "rseq", "vm", "vm_int", "vm_run", "vm_dirty",
               "vmhash"]),
    ("memguard", ["memguard", "memguard_int", "memguard_policy",
                  "memguard_report", "memguard_stack"]),
    ("slab", ["slab", "debug"]),
    ("keg", ["keg"]),
    ("zone back end", ["limit", "import", "internal", "zone_ctor"]),
    ("bucket", ["bucket"]),
    ("cache", ["cache", "cache_fast"]),
    ("reclaim", ["reclaim"]),
    ("memguard selection", ["memguard_select"]),
    ("threads", ["export", "threads"]),
    ("start-up", ["init"]),
    ("low memory", ["lowmem"]),
    ("statistics", ["stats"]),
    ("zone entry", ["zalloc", "zone_fast", "zone", "memguard_zone"]),
    ("statistics' nodes", ["stream", "sysctl_zone"]),
    ("counter", ["counter"]),
    ("malloc", ["malloc", "malloc_fast", "malloc_int", "malloc_mstat",
                "malloc_large", "malloc_type", "malloc_kpi", "contig",
                "memguard_malloc"]),
    ("mbuf", ["mbuf_int", "mbuf_limit", "mbuf", "mbuf_tag", "mbuf_chain",
              "mbuf_get", "mbuf_copy", "mbuf_pull", "mbuf_defrag",
              "mbuf_debug"]),
    ("kmem report", ["kmem", "kmem_walk"]),
    ("interposer", ["interpose/interpose"]),
]

# The door, and the files whose recursion through it is documented.
DOOR = "internal"
RECURSION = {"internal", "import", "keg", "slab", "zone_ctor", "limit",
             "debug"}


def layer_of():
    table = {}
    for i, (_, stems) in enumerate(LAYERS):
        for stem in stems:
            table[stem] = i
    return table


def stem(path, src):
    rel = os.path.relpath(path, src)
    return os.path.splitext(rel)[0]


def sources(src):
    out = []
    for d in (src, os.path.join(src, "interpose")):
        for f in sorted(os.listdir(d)):
            if f.endswith((".c", ".h")):
                out.append(os.path.join(d, f))
    return out


def includes(path):
    with open(path) as f:
        return re.findall(r'^#include "([^"]+)"', f.read(), re.M)


def check_includes(src, files, table):
    bad, graph = [], {}
    for path in files:
        s = stem(path, src)
        if s not in table:
            bad.append("%s: in no layer of tools/layers.py" % s)
            continue
        for inc in includes(path):
            t = os.path.splitext(os.path.basename(inc))[0]
            if t not in table:
                bad.append("%s: includes %s, in no layer" % (s, inc))
                continue
            if t != s:
                graph.setdefault(s, set()).add(t)
            if table[t] > table[s] and not (t == DOOR and s in RECURSION):
                bad.append("%s (%s) includes %s (%s): an upward include"
                           % (s, LAYERS[table[s]][0], inc,
                              LAYERS[table[t]][0]))
    return bad, graph


def call_graph(src, files, cc):
    """File -> files it calls, from gcc -fcallgraph-info."""
    defined, edges = {}, []
    include = os.path.join(os.path.dirname(src), "include")
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            if not path.endswith(".c"):
                continue
            s = stem(path, src)
            obj = os.path.join(tmp, s.replace("/", "_") + ".o")
            subprocess.run([cc, "-c", "-O2", "-fcallgraph-info",
                            "-D_GNU_SOURCE", "-DUMA_DEBUG=1", "-I", include,
                            "-I", src, "-o", obj, path], check=True)
            with open(obj[:-2] + ".ci") as f:
                text = f.read()
            # Functions with external linkage defined here: their node
            # has a bare title and this file's name in its label.
            for title, label in re.findall(
                    r'node: \{ title: "([^"]+)" label: "[^\\]*\\n([^:]+):',
                    text):
                if ":" not in title and label == os.path.basename(path):
                    defined.setdefault(title, s)
            for a, b in re.findall(r'edge: \{ sourcename: "([^"]+)" '
                                   r'targetname: "([^"]+)"', text):
                edges.append((s, b.split(":")[-1], b))
    graph = {}
    for s, name, full in edges:
        t = s if ":" in full else defined.get(name)
        if t is not None and t != s:
            graph.setdefault(s, set()).add(t)
    return graph


def sccs(graph):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out = {}, {}, [], set(), []
    nodes = set(graph) | {t for ts in graph.values() for t in ts}
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def check_calls(graph):
    bad = []
    for comp in sccs(graph):
        if len(comp) < 2:
            continue
        if DOOR in comp and comp <= RECURSION:
            continue
        bad.append("call cycle among %s" % ", ".join(sorted(comp)))
    return bad


def write_dot(path, table, inc, calls):
    with open(path, "w") as f:
        f.write("digraph uma {\n  rankdir=BT; node [shape=box];\n")
        for i, (name, stems) in enumerate(LAYERS):
            f.write('  subgraph cluster_%d { label="%s"; rank=same; %s }\n'
                    % (i, name, " ".join('"%s"' % s for s in stems)))
        for s in sorted(calls):
            for t in sorted(calls[s]):
                style = "dashed" if t == DOOR and table[s] < table[t] else \
                    "solid"
                f.write('  "%s" -> "%s" [style=%s];\n' % (s, t, style))
        f.write("}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src", nargs="?", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"))
    ap.add_argument("--dot")
    args = ap.parse_args()
    src = os.path.normpath(args.src)
    table = layer_of()
    files = sources(src)
    bad, inc = check_includes(src, files, table)
    calls = call_graph(src, files, args.cc)
    bad += check_calls(calls)
    for i, (name, stems) in reversed(list(enumerate(LAYERS))):
        print("%2d %s" % (i, name))
        for s in stems:
            down = sorted(calls.get(s, ()), key=lambda t: -table.get(t, 0))
            print("     %-22s calls %s" % (s, " ".join(down) or "-"))
    if args.dot:
        write_dot(args.dot, table, inc, calls)
    for line in bad:
        print("layers: " + line, file=sys.stderr)
    print("layers: %d violations" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
