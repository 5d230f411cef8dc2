#!/usr/bin/env python3
"""Proves check_panels.py can fail: runs it on a dashboard with deliberately broken panels.

    selftest_broken.py --demo DEMO --promex PROMEX_CLI --dashboards DIR [--prometheus BIN]

Builds `broken.json` in a temporary directory from DIR/application.json (its templating and
annotations are kept; its panels are replaced by the cases below), runs check_panels.py on that
directory against the real demo and Prometheus, and asserts that it exits 1, that every broken
panel is reported with its own reason, that every good panel (including the `${var}`,
`[[var]]`, `${var:fmt}` and `$1` forms, and a panel whose broken target is hidden) is reported
as having data, and that the summary's counts are the ones this case list implies. Exit 0 when
all of that holds, 1 otherwise, 77 when check_panels.py skipped (no Prometheus).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
P = "<%= prom_ex_metric_prefix %>"


def target(expr, ref="A", hide=False):
    t = {"refId": ref, "datasource": {"type": "prometheus", "uid": "${datasource}"}, "expr": expr}
    if hide:
        t["hide"] = True
    return t


def panel(pid, title, targets, ptype="stat", datasource=None):
    return {"id": pid, "type": ptype, "title": title,
            "gridPos": {"x": 0, "y": pid, "w": 6, "h": 4},
            "datasource": datasource or {"type": "prometheus", "uid": "${datasource}"},
            "targets": targets}


# (panel, expected report: None = data, else a regex the FAIL line must match). Titles are unique
# so each line of the driver's output can be matched to its case.
CASES = [
    (panel(2, "good braces", [target(P + '_status_info{job="${job}", instance=~"${instance:regex}"}')]),
     None),
    (panel(3, "good brackets", [target(P + '_status_info{job="[[job]]", instance="[[instance]]"}')]),
     None),
    (panel(4, "good hidden broken target",
           [target(P + '_status_info{job="$job"}'),
            target("sum(this_metric_does_not_exist", "B", hide=True)]), None),
    (panel(5, "good backreference",
           [target('label_replace(' + P + '_status_info{job="$job"}, "x", "$1", "app", "(.*)")')]),
     None),
    (panel(6, "typo metric", [target(P + '_status_inof{job="$job", instance="$instance"}')]),
     r"no series returned"),
    (panel(7, "syntax error",
           [target("sum(rate(" + P + '_status_info{job="$job"}[$__rate_interval])')]),
     r"query failed to run"),
    (panel(8, "undefined variable", [target(P + '_status_info{job="$job", zone="$nope"}')]),
     r"undefined variable\(s\) \$nope"),
    (panel(9, "no queries", [], ptype="timeseries"), r"has no visible query"),
    (panel(10, "loki panel", [target(P + '_status_info{job="$job"}')],
           datasource={"type": "loki", "uid": "logs"}), r"is not Prometheus"),
]
NESTED = (panel(12, "nested typo", [target(P + '_status_infoo{job="$job"}')]), r"no series returned")


def build(src_dir, out_dir):
    with open(os.path.join(src_dir, "application.json")) as f:
        dash = json.load(f)  # the template is JSON: its tags sit inside strings
    panels = [{"id": 1, "type": "text", "title": "notes", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 2},
               "options": {"content": "text panels need no query"}}]
    panels += [c[0] for c in CASES]
    panels.append({"id": 11, "type": "row", "title": "collapsed", "collapsed": True,
                   "gridPos": {"x": 0, "y": 20, "w": 24, "h": 1}, "panels": [NESTED[0]]})
    dash["panels"] = panels
    with open(os.path.join(out_dir, "broken.json"), "w") as f:
        json.dump(dash, f, indent=2)


def main():
    ap = argparse.ArgumentParser()
    for a in ("--demo", "--promex", "--dashboards"):
        ap.add_argument(a, required=True)
    ap.add_argument("--prometheus", default="")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="promex-panels-selftest-")
    try:
        build(args.dashboards, tmp)
        cmd = [sys.executable, os.path.join(HERE, "check_panels.py"), "--demo", args.demo,
               "--promex", args.promex, "--dashboards", tmp, "--grace", "3"]
        if args.prometheus:
            cmd += ["--prometheus", args.prometheus]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=200)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = r.stdout + r.stderr
    print(out)
    if r.returncode == 77:
        return 77
    problems = []
    if r.returncode != 1:
        problems.append(f"check_panels.py exited {r.returncode}, want 1")
    cases = CASES + [NESTED]
    for p, want in cases:
        title = p["title"]
        ok = re.search(rf"^  ok   {re.escape(title)}: [1-9]\d* series", out, re.M)
        fail = re.search(rf"^  FAIL broken\.json: panel '{re.escape(title)}'.*$", out, re.M)
        if want is None and (not ok or fail):
            problems.append(f"good panel '{title}' was not reported as having data")
        if want is not None and not (fail and re.search(want, fail.group(0))):
            problems.append(f"broken panel '{title}' was not reported as /{want}/")
    if re.search(r"'notes'", out):
        problems.append("the text panel was checked although it needs no query")
    if "this_metric_does_not_exist" in out:
        problems.append("the hidden target was run")
    # Expected counts, from the case list: panels = every case (not the text panel or the row);
    # queries = visible targets; data = visible targets of the panels that are good or fail for a
    # reason other than their query (the loki panel's query itself returns data).
    n_panels = len(cases)
    n_queries = sum(len([t for t in p["targets"] if not t.get("hide")]) for p, _ in cases)
    n_data = sum(1 for p, want in cases if want in (None, r"is not Prometheus"))
    want_row = rf"^broken\.json\s+{n_panels}\s+{n_queries}\s+{n_data}\s+FAIL"
    if not re.search(want_row, out, re.M):
        problems.append(f"summary row does not match /{want_row}/")
    for p in problems:
        print(f"SELFTEST FAIL: {p}")
    if not problems:
        print(f"SELFTEST PASS: {len(cases)} panels, every broken one caught")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
