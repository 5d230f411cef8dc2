#!/usr/bin/env python3
"""Every allocation in libpromex goes through the allocator hook (promex/alloc.h).

Input: the areas file of area_graph.py ("<area>\t<object>..."). Fails when an object other than
src/core/alloc.c's calls the C library's allocation functions directly: such memory would bypass
pmx_replace_allocator (tests could not fail it, hosts could not account it) and, freed through
the hook, would reach the wrong free(). --self-test checks the classifier on made-up symbols.
"""
import argparse
import os
import subprocess
import sys

# Allocation functions and the names glibc or fortify may compile them to.
FORBIDDEN = {
    "malloc": "pmx__malloc", "calloc": "pmx__calloc", "realloc": "pmx__realloc",
    "reallocarray": "pmx__realloc (check the multiplication)", "free": "pmx__free",
    "strdup": "pmx__strdup", "__strdup": "pmx__strdup", "strndup": "pmx__strndup",
    "__strndup": "pmx__strndup", "asprintf": "a pmx_buf_t with pmx__buf_appendf",
    "vasprintf": "a pmx_buf_t with pmx__buf_appendf", "__asprintf_chk": "a pmx_buf_t",
    "__vasprintf_chk": "a pmx_buf_t", "aligned_alloc": "pmx__malloc",
    "posix_memalign": "pmx__malloc", "memalign": "pmx__malloc", "valloc": "pmx__malloc",
    "open_memstream": "a pmx_buf_t", "getline": "a pmx_buf_t or a fixed buffer with fgets",
    "getdelim": "a pmx_buf_t or a fixed buffer with fgets",
}
ALLOWED_OBJECTS = ("alloc.c.o", "alloc.c.obj")  # src/core/alloc.c: the hook itself


def violations(undefined):
    """Sorted forbidden names among an object's undefined symbols (versions like @GLIBC dropped)."""
    return sorted({s.split("@")[0] for s in undefined} & FORBIDDEN.keys())


def undefined_symbols(nm, obj):
    out = subprocess.run([nm, "-P", "-u", obj], check=True, capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.split()]


def self_test():
    assert violations(["pmx__malloc", "memcpy"]) == []
    assert violations(["malloc", "free@GLIBC_2.2.5", "strlen"]) == ["free", "malloc"]
    assert violations(["__strdup", "__asprintf_chk"]) == ["__asprintf_chk", "__strdup"]
    print("self-test passed")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("areas", nargs="?")
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    bad, n = [], 0
    for line in open(a.areas):
        parts = line.rstrip("\n").split("\t")
        for obj in parts[1:]:
            if not obj or os.path.basename(obj) in ALLOWED_OBJECTS:
                continue
            n += 1
            for s in violations(undefined_symbols(a.nm, obj)):
                bad.append(f"{obj}: calls {s}(): use {FORBIDDEN[s]} (src/internal.h) instead, so "
                           "the allocation goes through pmx_replace_allocator (promex/alloc.h)")
    if n == 0:
        print("no objects found in", a.areas)
        return 1
    for b in bad:
        print(b)
    if bad:
        print(f"{len(bad)} direct allocation call(s) bypass the allocator hook")
        return 1
    print(f"{n} objects: every allocation goes through the allocator hook")
    return 0


if __name__ == "__main__":
    sys.exit(main())
