#!/usr/bin/env python3
"""Checks the alert rule templates (alerts/*.rules.yml) end to end through the CLI:

1. `promex alerts export` renders each first-party template for app "shop" (the current
   directory's name is the default app), from the copy compiled into the CLI and from the source
   file; both must be identical (the embedded copy is up to date).
2. `promtool check rules` accepts the result, and `promex dashboard lint` finds every metric the
   expressions query among those the first-party plugins define (rendered as a dashboard).
3. `promtool test rules <plugin>.test.yml` passes.
4. Coverage: every alert of the file appears in a firing expectation (non-empty exp_alerts), and
   is shown quiet too: either an evaluation expecting no alert, or an input series that none of
   the expected alerts comes from (promtool fails on any alert it did not expect).
5. Export error paths: unknown rules (exit 1, the first-party list printed), missing -s/-f (2),
   `promex alerts` without a command (2), a template naming an unknown assign (1, with file, line
   and column), and an assign trying to break out of its string stays inside it (the output is still the
   same rules, with the value escaped).

Exit 0 on success, 1 on failure, 77 when promtool is missing (skipped)."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def run(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60)


def alert_names(rendered):
    doc = json.loads(rendered)  # the rendered rules are JSON-style YAML
    return [r["alert"] for g in doc["groups"] for r in g["rules"] if "alert" in r]


def series_labels(series_list):
    return [dict(re.findall(r'(\w+)="([^"]*)"', s.get("series", ""))) for s in series_list]


def has_quiet_series(labels, expected):
    """True if some input series matches none of the expected alerts: an alert's labels (without
    the rule's own severity) are all found on the series it came from."""
    exp = [{k: str(v) for k, v in a.get("exp_labels", {}).items() if k != "severity"}
           for a in expected]
    return any(not any(all(l.get(k) == v for k, v in e.items()) for e in exp) for l in labels)


def check_coverage(plugin, names, tests_doc):
    fired, quiet = set(), set()
    for group in tests_doc.get("tests", []):
        labels = series_labels(group.get("input_series", []))
        for t in group.get("alert_rule_test", []):
            name = t.get("alertname")
            exp = t.get("exp_alerts") or []
            if not exp:
                quiet.add(name)
                continue
            fired.add(name)
            if has_quiet_series(labels, exp):
                quiet.add(name)
    for n in names:
        if n not in fired:
            fail("%s: alert %s is never shown firing in %s.test.yml" % (plugin, n, plugin))
        if n not in quiet:
            fail("%s: alert %s is never shown staying quiet in %s.test.yml" % (plugin, n, plugin))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--promex", required=True)
    ap.add_argument("--promtool")
    ap.add_argument("--alerts", required=True)
    ap.add_argument("--tests", required=True)
    a = ap.parse_args()
    if not a.promtool:
        print("promtool not installed: skipped")
        return 77
    templates = sorted(f for f in os.listdir(a.alerts) if f.endswith(".rules.yml"))
    if not templates:
        fail("no templates in " + a.alerts)
    top = tempfile.mkdtemp()
    try:
        work = os.path.join(top, "shop")  # the default app is the directory's name
        os.mkdir(work)
        for tpl in templates:
            plugin = tpl[: -len(".rules.yml")]
            out = os.path.join(work, tpl)
            r = run([a.promex, "alerts", "export", "-d", plugin, "-f", out], work)
            if r.returncode != 0:
                fail("%s: export failed: %s" % (plugin, r.stderr))
                continue
            r2 = run([a.promex, "alerts", "export", "-d", os.path.join(a.alerts, tpl), "-s"], work)
            if r2.returncode != 0 or r2.stdout != open(out).read():
                fail("%s: the compiled-in template differs from alerts/%s (rebuild?)" % (plugin, tpl))
            # the source file's rendering is what the checks below test
            rendered = r2.stdout
            with open(out, "w") as f:
                f.write(rendered)
            if "<%" in rendered or "shop_prom_ex_" not in rendered:
                fail("%s: not rendered with app shop's prefixes" % plugin)
            r = run([a.promtool, "check", "rules", out], work)
            if r.returncode != 0:
                fail("%s: promtool check rules: %s%s" % (plugin, r.stdout, r.stderr))
            # The metric names the rules query must be ones the plugins define (promtool's tests
            # use hand-written series and would not notice a misspelt name): each expression
            # becomes a panel of a throw-away dashboard for `promex dashboard lint`.
            rules = [r for g in json.loads(rendered)["groups"] for r in g["rules"]]
            dash = {"uid": "alerts-" + plugin.replace("_", "-"), "title": plugin, "panels": [
                {"id": i + 1, "type": "timeseries", "title": r["alert"],
                 "datasource": {"type": "prometheus", "uid": "prometheus"},
                 "targets": [{"refId": "A", "expr": r["expr"]}]} for i, r in enumerate(rules)]}
            dash_path = os.path.join(top, plugin + "_exprs.json")
            with open(dash_path, "w") as f:
                json.dump(dash, f)
            r = run([a.promex, "dashboard", "lint", dash_path], work)
            if r.returncode != 0:
                fail("%s: rule expressions use metrics no plugin defines:\n%s%s" % (plugin, r.stdout, r.stderr))
            test_src = os.path.join(a.tests, plugin + ".test.yml")
            if not os.path.exists(test_src):
                fail("%s: no %s" % (plugin, test_src))
                continue
            shutil.copy(test_src, work)
            r = run([a.promtool, "test", "rules", plugin + ".test.yml"], work)
            if r.returncode != 0:
                fail("%s: promtool test rules: %s%s" % (plugin, r.stdout, r.stderr))
            with open(test_src) as f:
                check_coverage(plugin, alert_names(rendered), yaml.safe_load(f))

        # Error paths.
        r = run([a.promex, "alerts", "export", "-d", "no_such_plugin", "-s"], work)
        if r.returncode != 1 or "process.rules.yml" not in r.stderr:
            fail("unknown rules: exit %d, stderr %r" % (r.returncode, r.stderr))
        r = run([a.promex, "alerts", "export", "-d", "process"], work)
        if r.returncode != 2:
            fail("missing -s/-f: exit %d" % r.returncode)
        r = run([a.promex, "alerts", "export", "-d", "process", "-s", "-a", "nokey"], work)
        if r.returncode != 2:
            fail("bad assign: exit %d" % r.returncode)
        r = run([a.promex, "alerts"], work)
        if r.returncode != 2 or "export" not in r.stderr:
            fail("'promex alerts': exit %d, stderr %r" % (r.returncode, r.stderr))
        r = run([a.promex, "help", "alerts", "export"], work)
        if r.returncode != 0 or "Usage: promex alerts export" not in r.stdout:
            fail("'promex help alerts export': exit %d" % r.returncode)
        bad = os.path.join(top, "bad.rules.yml")
        with open(bad, "w") as f:
            f.write('{"groups": [{"name": "g", "rules": [\n  {"alert": "A", "expr": "<%= nope %>_x > 1"}]}]}\n')
        r = run([a.promex, "alerts", "export", "-d", bad, "-s"], work)
        if r.returncode != 1 or "bad.rules.yml:2:" not in r.stderr or "nope" not in r.stderr:
            fail("template with an unknown assign: exit %d, stderr %r" % (r.returncode, r.stderr))
        hostile = 'x", "alert": "Injected'
        r = run([a.promex, "alerts", "export", "-d", "process", "-s",
                 "-a", "process_metric_prefix=" + hostile], work)
        if r.returncode != 0:
            fail("hostile assign: export failed: %s" % r.stderr)
        else:
            names = alert_names(r.stdout)
            if "Injected" in names or len(names) != len(alert_names(open(os.path.join(work, "process.rules.yml")).read())):
                fail("hostile assign changed the rules: %r" % names)
            if 'x\\", \\"alert\\": \\"Injected' not in r.stdout:
                fail("hostile assign not escaped inside its string")
    finally:
        shutil.rmtree(top)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("alerts: %d rule files rendered, checked and unit-tested" % len(templates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
