#!/usr/bin/env python3
"""The dependency graph between promex's areas, drawn from the object files.

Input: a file with one line per area, "<area>\t<object>\t<object>...". Every global pmx_ /
pmx__ symbol an area's objects define belongs to that area; every such symbol an area's objects
leave undefined is an edge to the area that defines it. Prints the graph, then fails when it has
a cycle (naming it, with one symbol per edge) or when the root area (--root, the core) depends on
any other area. --self-test runs the checks on made-up graphs.
"""
import argparse
import subprocess
import sys


def symbols(nm, obj):
    """(defined, undefined) pmx_/pmx__ symbol names of one object file."""
    out = subprocess.run([nm, "-P", "-g", obj], check=True, capture_output=True, text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[0].startswith("pmx_"):
            continue
        (undefined if parts[1] == "U" else defined).add(parts[0])
    return defined, undefined


def build_graph(nm, areas):
    """areas: {area: [objects]} -> ({area: {dep: example symbol}}, [errors])."""
    owner, needs, errors = {}, {}, []
    for area, objs in areas.items():
        needs[area] = set()
        for obj in objs:
            d, u = symbols(nm, obj)
            for s in d:
                if owner.get(s, area) != area:
                    errors.append(f"{s} is defined in both {owner[s]} and {area}")
                owner[s] = area
            needs[area] |= u
    graph = {a: {} for a in areas}
    for area, syms in needs.items():
        for s in sorted(syms):
            dep = owner.get(s)
            if dep is not None and dep != area:
                graph[area].setdefault(dep, s)
    return graph, errors


def find_cycle(graph):
    """A list of areas [a, b, ..., a] forming a cycle, or None."""
    state, stack = {}, []

    def visit(a):
        state[a] = 1
        stack.append(a)
        for b in sorted(graph.get(a, {})):
            if state.get(b) == 1:
                return stack[stack.index(b):] + [b]
            if b not in state:
                c = visit(b)
                if c:
                    return c
        stack.pop()
        state[a] = 2
        return None

    for a in sorted(graph):
        if a not in state:
            c = visit(a)
            if c:
                return c
    return None


def check(graph, root):
    """Error messages (empty when the graph is acyclic and the root depends on nothing)."""
    errors = []
    cycle = find_cycle(graph)
    if cycle:
        steps = [f"{a} -> {b} ({graph[a][b]})" for a, b in zip(cycle, cycle[1:])]
        errors.append("area dependency cycle: " + ", ".join(steps))
    if root and graph.get(root):
        deps = ", ".join(f"{b} ({s})" for b, s in sorted(graph[root].items()))
        errors.append(f"{root} must depend on no other area, but uses {deps}")
    return errors


def self_test():
    ok = {"core": {}, "runtime": {"core": "pmx_bus_new", "plugin_api": "pmx__groups_new"},
          "plugin_api": {"core": "pmx__fail"}, "plugins": {"plugin_api": "pmx_plugin_opt"}}
    assert check(ok, "core") == [], check(ok, "core")
    bad = dict(ok, plugin_api={"core": "pmx__fail", "runtime": "pmx_log"})
    errs = check(bad, "core")
    assert len(errs) == 1 and "plugin_api -> runtime (pmx_log)" in errs[0], errs
    assert "runtime -> plugin_api (pmx__groups_new)" in errs[0], errs
    up = dict(ok, core={"runtime": "pmx_log"})
    errs = check(up, "core")
    assert any("core must depend on no other area" in e and "runtime (pmx_log)" in e
               for e in errs), errs
    print("area_graph self-test: ok")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--root", default="core")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("areas", nargs="?")
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    areas = {}
    with open(a.areas) as f:
        for line in f:
            fields = [x for x in line.rstrip("\n").split("\t") if x]
            if fields:
                areas[fields[0]] = fields[1:]
    graph, errors = build_graph(a.nm, areas)
    print("area dependency graph (area -> areas it uses, with one symbol each):")
    for area in sorted(graph):
        deps = ", ".join(f"{b} ({s})" for b, s in sorted(graph[area].items())) or "-"
        print(f"  {area} -> {deps}")
    errors += check(graph, a.root)
    for e in errors:
        print("FAIL: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
