#!/usr/bin/env python3
"""Helpers of perf-reports/run: small records, the certificate pin, a server check, derper's saturation and the
report itself.

Standard library only. Subcommands:
  pin CERT.pem                       sha256 of the leaf certificate's DER, in hex (Tailscale's sha256-raw pin)
  check HOST PORT PIN                TLS handshake (certificate pinned), GET /derp upgrade, 101 and ServerKey read
  record FILE key=value...           merge string values into a JSON object file (created if missing)
  saturation WORK ID                 median delivered packets/s of derper's runs of scenario ID so far
  report WORK OUTDIR [--root R ...]  write OUTDIR/report.md, OUTDIR/report.json and the charts

The load generator's summary.json is read defensively: every number is looked up under its current name first and
under older or alternative names after, and a missing one is reported as missing, never guessed.
"""

import argparse
import base64
import glob
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys

SERVERS = ("derper", "jderper", "baseline")
STUN_NOTE = ("jderper and derper are each restarted with STUN on for this scenario; the baseline forwarder has no "
             "STUN server")


# ---------------------------------------------------------------------------------------------------------------
# Small subcommands.

def cert_pin(path):
    """sha256 of the leaf certificate's DER in hex; exits with a message if the file holds no certificate."""
    with open(path, encoding="ascii") as f:
        pem = f.read()
    m = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S)
    if not m:
        sys.exit("no certificate in " + path)
    return hashlib.sha256(base64.b64decode("".join(m.group(1).split()))).hexdigest()


def cmd_pin(path):
    print(cert_pin(path))


# The derper perf-reports/run builds and the interop suite shares (same cache directory, same version).
TAILSCALE_VERSION = "v1.102.3"


def go_bin_cache():
    return os.environ.get("JDERPER_GO_BIN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "jderper-go-bin")


def derper_binary(log):
    """The cached derper, built with go install the first time (output appended to the file log)."""
    directory = os.path.join(go_bin_cache(), "tailscale-" + TAILSCALE_VERSION)
    binary = os.path.join(directory, "derper")
    if not os.access(binary, os.X_OK):
        os.makedirs(directory, exist_ok=True)
        env = dict(os.environ, GOBIN=directory)
        with open(log, "a", encoding="utf-8") as out:
            subprocess.run(["go", "install", "tailscale.com/cmd/derper@" + TAILSCALE_VERSION], env=env, stdout=out,
                           stderr=subprocess.STDOUT, check=True, timeout=1800)
    return binary


def jvm_flags(root):
    """The relay's JVM flags, read from the jderper script, so that a JVM here runs as ./jderper runs it."""
    with open(os.path.join(root, "jderper"), encoding="utf-8") as f:
        m = re.search(r"^JVM_FLAGS=\((.*?)\)", f.read(), re.S | re.M)
    if not m or not m.group(1).split():
        sys.exit("could not read JVM_FLAGS from the jderper script")
    return m.group(1).split()


SERVER_KEY_MAGIC = b"DERP\xf0\x9f\x94\x91"


def cmd_check(host, port, pin):
    """Proves a server answers as a DERP server over TLS with the expected certificate, without a DERP client."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the pin below is the check, as Tailscale's sha256-raw CertName
    with socket.create_connection((host, port), timeout=10) as raw, context.wrap_socket(raw) as tls:
        got = hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()
        if got != pin:
            sys.exit(f"certificate sha256-raw:{got}, want sha256-raw:{pin}")
        tls.sendall(f"GET /derp HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: Upgrade\r\nUpgrade: DERP\r\n"
                    f"User-Agent: perf-reports-check\r\n\r\n".encode("ascii"))
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 8192:
            chunk = tls.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode("ascii", "replace")
        if " 101 " not in status + " ":
            sys.exit(f"upgrade answered {status!r}, want 101")
        while len(rest) < 45:
            chunk = tls.recv(4096)
            if not chunk:
                break
            rest += chunk
        if len(rest) < 45 or rest[0] != 1 or int.from_bytes(rest[1:5], "big") != 40 or rest[5:13] != SERVER_KEY_MAGIC:
            sys.exit(f"no ServerKey frame after the 101: {rest[:13].hex()}")
        print(f"{tls.version()}, {status}, ServerKey {rest[13:45].hex()[:16]}...")


def cmd_record(path, pairs):
    data = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            sys.exit("record: want key=value, got " + pair)
        data[key] = value
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


def cmd_saturation(work, scenario_id):
    values = []
    for run in load_runs(work):
        if run["server"] == "derper" and run["id"] == scenario_id and run["metrics"].get("delivered_pps"):
            values.append(run["metrics"]["delivered_pps"])
    print(round(statistics.median(values)) if values else "")


# ---------------------------------------------------------------------------------------------------------------
# Reading runs.

def lookup(obj, *paths):
    """The first number found under any of the dotted paths, else None."""
    for path in paths:
        node = obj
        for part in path.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                node = None
                break
        if isinstance(node, bool):
            continue
        if isinstance(node, (int, float)):
            return float(node)
    return None


def as_float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_runs(work):
    runs = []
    for path in sorted(glob.glob(os.path.join(work, "runs", "*.json"))):
        if path.endswith(".rss0.json"):
            continue
        meta = load_json(path)
        if not meta or "id" not in meta:
            continue
        summary = load_json(os.path.join(work, meta["out"], "summary.json")) or {}
        rss0 = load_json(path[: -len(".json")] + ".rss0.json") or {}
        meta["rep"] = int(meta.get("rep", 0))
        meta["status"] = int(meta.get("status", 1))
        meta["summary_found"] = bool(summary)
        meta["reason"] = (summary.get("result") or {}).get("reason") if isinstance(summary.get("result"), dict) \
            else None
        meta["metrics"] = metrics_of(meta, summary, rss0)
        runs.append(meta)
    return runs


def metrics_of(meta, s, rss0):
    """The numbers the report uses, from the load generator's summary, with this script's own /proc samples as a
    fallback for the server's CPU and memory."""
    m = {}
    m["delivered_pps"] = lookup(s, "traffic.packetsPerSecond", "traffic.deliveredPerSecond", "throughput.pps")
    m["gbit_per_s"] = lookup(s, "traffic.gbitPerSecond")
    m["sent"] = lookup(s, "traffic.sent")
    m["delivered"] = lookup(s, "traffic.delivered")
    m["lost"] = lookup(s, "traffic.lost")
    m["latency_p50_us"] = lookup(s, "traffic.latencyUs.p50", "latency.p50Us")
    m["latency_p99_us"] = lookup(s, "traffic.latencyUs.p99", "latency.p99Us")
    m["latency_p999_us"] = lookup(s, "traffic.latencyUs.p99_9", "traffic.latencyUs.p999", "latency.p999Us")
    m["scenario_s"] = lookup(s, "phases.scenarioSeconds")
    m["rate_per_sender"] = lookup(s, "settings.ratePerSender")
    m["clients"] = lookup(s, "settings.clients")
    m["connected"] = lookup(s, "connect.succeeded")
    m["errors"] = lookup(s, "errors.total")
    m["connect_hps"] = lookup(s, "connect.handshakesPerSecond")
    m["churn_hps"] = lookup(s, "churn.handshakesPerSecond")
    m["churn_target"] = lookup(s, "churn.targetPerSecond")
    m["churn_failed"] = lookup(s, "churn.failed")
    m["server_cpu_scenario_s"] = lookup(s, "server.cpuSecondsScenario")
    m["server_cpu_s_per_mpkt"] = lookup(s, "server.cpuSecondsPerMillionPackets")
    m["server_cpu_ms_per_handshake"] = lookup(s, "server.cpuMsPerHandshake")
    m["server_cpu_ms_per_churn_handshake"] = lookup(s, "server.cpuMsPerChurnHandshake")
    m["server_rss_start_kib"] = lookup(s, "server.rssKiBStart")
    m["server_rss_connected_kib"] = lookup(s, "server.rssKiBConnected")
    m["server_rss_end_kib"] = lookup(s, "server.rssKiBEnd")
    m["server_rss_max_kib"] = lookup(s, "server.rssKiBMax")
    m["loadgen_cpu_scenario_s"] = lookup(s, "loadgen.cpuSecondsScenario")
    m["stun_rps"] = lookup(s, "stun.repliesPerSecond")
    m["stun_sent"] = lookup(s, "stun.sent")
    m["stun_lost"] = lookup(s, "stun.lost")
    m["stun_rtt_p50_us"] = lookup(s, "stun.roundTripUs.p50")
    m["stun_rtt_p99_us"] = lookup(s, "stun.roundTripUs.p99")
    m["server_cpu_s_per_mreplies"] = lookup(s, "server.cpuSecondsPerMillionReplies")
    # Server CPU as a share of one core over the scenario: shows which side was the bottleneck.
    if m["server_cpu_scenario_s"] is not None and m["scenario_s"]:
        m["server_cores"] = m["server_cpu_scenario_s"] / m["scenario_s"]
    if m["loadgen_cpu_scenario_s"] is not None and m["scenario_s"]:
        m["loadgen_cores"] = m["loadgen_cpu_scenario_s"] / m["scenario_s"]
    if m["delivered_pps"] is not None and m["rate_per_sender"] and m["clients"]:
        offered = m["rate_per_sender"] * (m["clients"] // 2)
        if offered > 0:
            m["offered_pps"] = offered
            m["delivered_fraction"] = m["delivered_pps"] / offered
    # Memory per idle client: RSS at the end of the hold minus RSS before any client connected.
    before = as_float(rss0.get("rss_before_kib")) or m["server_rss_start_kib"]
    with_clients = m["server_rss_end_kib"] or m["server_rss_connected_kib"] or \
        as_float(meta.get("server_rss_max_kib_outside"))
    clients = m["connected"] or m["clients"]
    if before and with_clients and clients:
        m["rss_before_kib"] = before
        m["rss_with_clients_kib"] = with_clients
        m["rss_kib_per_client"] = (with_clients - before) / clients
    m["server_cpu_s_outside"] = as_float(meta.get("server_cpu_s_outside"))
    # What else the machine did during the load generator's whole run (other processes, time stolen by the
    # hypervisor; interrupts and softirq are left out, they are mostly this test's own loopback traffic), in cores:
    # noise if it is far above zero.
    busy, wall = as_float(meta.get("machine_busy_s_outside")), as_float(meta.get("wall_s_outside"))
    # The load generator's whole process (JVM start-up included) and the harness's helpers, from bash's times.
    ours = as_float(meta.get("harness_cpu_s_outside"))
    if ours is None:
        ours = lookup(s, "loadgen.cpuSeconds")
    if busy is not None and wall and m["server_cpu_s_outside"] is not None and ours is not None:
        m["other_cores"] = max(0.0, busy - m["server_cpu_s_outside"] - ours) / wall
    return {k: v for k, v in m.items() if v is not None}


# ---------------------------------------------------------------------------------------------------------------
# The report.

OTHER_LABEL = "rest of the machine: other processes, hypervisor steal (cores busy)"

# (scenario id prefix, title, [(metric key, label, unit, better, scale)]) for the result tables.
TABLES = [
    ("memory", "Memory: idle TLS clients", [
        ("rss_before_kib", "RSS before clients", "MiB", "lower", 1 / 1024),
        ("rss_with_clients_kib", "RSS with the idle clients", "MiB", "lower", 1 / 1024),
        ("rss_kib_per_client", "RSS per idle client", "KiB", "lower", 1),
        ("connect_hps", "handshakes/s while connecting (256 in flight)", "/s", "higher", 1),
        ("server_cpu_ms_per_handshake", "server CPU per handshake (connect phase)", "ms", "lower", 1),
    ]),
    ("throughput", "Throughput: {pairs} pairs, 1200-byte packets, window 16, rate unlimited", [
        ("delivered_pps", "delivered packets/s", "pkt/s", "higher", 1),
        ("gbit_per_s", "delivered payload", "Gbit/s", "higher", 1),
        ("server_cores", "server CPU (cores busy)", "cores", "", 1),
        ("loadgen_cores", "load generator CPU (cores busy)", "cores", "", 1),
        ("server_cpu_s_per_mpkt", "server CPU per million packets", "s", "lower", 1),
        ("latency_p50_us", "one-way latency p50", "µs", "lower", 1),
        ("latency_p99_us", "one-way latency p99", "µs", "lower", 1),
        ("lost", "packets lost", "", "lower", 1),
        ("other_cores", OTHER_LABEL, "cores", "", 1),
    ]),
    ("latency", "Latency: {pairs} pairs at {fraction} of derper's saturation", [
        ("offered_pps", "offered packets/s", "pkt/s", "", 1),
        ("delivered_pps", "delivered packets/s", "pkt/s", "", 1),
        ("latency_p50_us", "one-way latency p50", "µs", "lower", 1),
        ("latency_p99_us", "one-way latency p99", "µs", "lower", 1),
        ("latency_p999_us", "one-way latency p99.9", "µs", "lower", 1),
        ("server_cores", "server CPU (cores busy)", "cores", "lower", 1),
        ("other_cores", OTHER_LABEL, "cores", "", 1),
    ]),
    ("efficiency", "Efficiency: {pairs} pairs at a fixed {fraction} of derper's saturation", [
        ("offered_pps", "offered packets/s", "pkt/s", "", 1),
        ("delivered_fraction", "delivered / offered", "", "higher", 1),
        ("server_cpu_s_per_mpkt", "server CPU per million forwarded packets", "s", "lower", 1),
        ("server_cores", "server CPU (cores busy)", "cores", "lower", 1),
        ("other_cores", OTHER_LABEL, "cores", "", 1),
    ]),
    ("stun", "STUN: {stun_sockets} UDP sockets, one binding request in flight each", [
        ("stun_rps", "binding replies/s", "/s", "higher", 1),
        ("server_cpu_s_per_mreplies", "server CPU per million replies", "s", "lower", 1),
        ("stun_rtt_p50_us", "round trip p50", "µs", "lower", 1),
        ("stun_rtt_p99_us", "round trip p99", "µs", "lower", 1),
        ("stun_lost", "requests unanswered within 1 s", "", "lower", 1),
        ("server_cores", "server CPU (cores busy)", "cores", "", 1),
        ("loadgen_cores", "load generator CPU (cores busy)", "cores", "", 1),
        ("other_cores", OTHER_LABEL, "cores", "", 1),
    ]),
    ("churn", "Churn: {churn_clients} clients, {churn_rate} closed and reopened per second", [
        ("churn_target", "requested handshakes/s", "/s", "", 1),
        ("churn_hps", "handshakes/s reached", "/s", "higher", 1),
        ("server_cpu_ms_per_churn_handshake", "server CPU per handshake", "ms", "lower", 1),
        ("server_cores", "server CPU (cores busy)", "cores", "", 1),
        ("loadgen_cores", "load generator CPU (cores busy; near 1: the load generator is the limit)", "cores", "", 1),
        ("churn_failed", "failed reconnects", "", "lower", 1),
        ("other_cores", OTHER_LABEL, "cores", "", 1),
    ]),
]


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt(value):
    if value is None:
        return "–"
    a = abs(value)
    if a >= 10000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 0.1:
        return f"{value:.2f}"
    if a == 0:
        return "0"
    return f"{value:.2g}"


def cell(agg, scale):
    if not agg:
        return "–"
    med, lo, hi = agg["median"] * scale, agg["min"] * scale, agg["max"] * scale
    if agg["n"] == 1 or lo == hi:
        return fmt(med)
    return f"{fmt(med)} ({fmt(lo)}–{fmt(hi)})"


def ratio(a, b):
    if not a or not b or not b["median"]:
        return None
    return a["median"] / b["median"]


class Sanitizer:
    """Replaces this machine's paths with placeholders: nothing in the report names a local directory."""

    def __init__(self, pairs):
        self.pairs = sorted(((p, r) for p, r in pairs if p and p != "/"), key=lambda x: -len(x[0]))

    def __call__(self, obj):
        if isinstance(obj, str):
            for path, placeholder in self.pairs:
                obj = obj.replace(path, placeholder)
            return obj
        if isinstance(obj, list):
            return [self(v) for v in obj]
        if isinstance(obj, dict):
            return {k: self(v) for k, v in obj.items()}
        return obj


def cmd_report(work, outdir, root, home, go_bin_cache, java_home):
    env = load_json(os.path.join(work, "env.json")) or {}
    runs = load_runs(work)
    sanitize = Sanitizer([(work, "<run>"), (os.path.join(root, ""), ""), (root, "."), (go_bin_cache, "<go-bin-cache>"),
                          (java_home, "<java-home>"), (home, "~")])
    servers = [s for s in env.get("servers", ",".join(SERVERS)).split(",") if s]

    # Aggregate every metric by scenario id and server.
    by_id = {}
    for run in runs:
        if run["id"].startswith("warmup"):
            continue
        by_id.setdefault(run["id"], {}).setdefault(run["server"], []).append(run)
    aggregates = {}
    for sid, per_server in by_id.items():
        aggregates[sid] = {}
        for server, rs in per_server.items():
            keys = sorted({k for r in rs for k in r["metrics"]})
            aggregates[sid][server] = {k: spread([r["metrics"].get(k) for r in rs]) for k in keys}
            aggregates[sid][server]["runs"] = len(rs)
            aggregates[sid][server]["failed_runs"] = sum(1 for r in rs if r["status"] != 0)

    charts = copy_charts(work, runs, outdir)
    jmh = load_jmh(work)
    md = render(env, runs, aggregates, servers, charts, jmh)
    with open(os.path.join(outdir, "report.md"), "w", encoding="utf-8") as f:
        f.write(sanitize(md))
    doc = {
        "environment": env,
        "stun": STUN_NOTE,
        "jmh": jmh,
        "aggregates": aggregates,
        "ratios": ratios(aggregates, servers),
        "runs": [{k: v for k, v in r.items()} for r in runs],
        "charts": charts,
    }
    with open(os.path.join(outdir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(sanitize(doc), f, indent=2, sort_keys=True)


def ratio_columns(servers):
    """(numerator, denominator) pairs shown as ratio columns: jderper, then each jderper variant (TLS provider,
    virtual-thread transport), over derper; the virtual-thread transport over jderper's event loops; jderper over
    the baseline."""
    variants = [s for s in servers if s.startswith("jderper-")]
    columns = [("jderper", "derper")] + [(v, "derper") for v in variants]
    if "jderper-vthreads" in servers:
        columns.append(("jderper-vthreads", "jderper"))
    return columns + [("jderper", "baseline")]


def ratios(aggregates, servers):
    out = {}
    for sid, per_server in aggregates.items():
        for mine, other in ratio_columns(servers):
            j = per_server.get(mine, {})
            o = per_server.get(other, {})
            for key in j:
                if key in ("runs", "failed_runs"):
                    continue
                r = ratio(j.get(key), o.get(key))
                if r is not None:
                    out.setdefault(sid, {}).setdefault(mine + "/" + other, {})[key] = r
    return out


def copy_charts(work, runs, outdir):
    charts = []
    for run in runs:
        if run["id"].startswith("warmup"):
            continue
        for png in sorted(glob.glob(os.path.join(work, run["out"], "*.png"))):
            name = f"{run['server']}-{run['id']}-rep{run['rep']}-{os.path.basename(png)}"
            shutil.copyfile(png, os.path.join(outdir, name))
            charts.append({"server": run["server"], "id": run["id"], "rep": run["rep"], "file": name})
    return charts


def load_jmh(work):
    """JMH's JSON results of the forwarding-path allocation run, or None if it did not run."""
    return load_json(os.path.join(work, "jmh.json"))


def render_jmh(add, jmh):
    add("## JMH: allocation on the forwarding path")
    add("")
    if not jmh:
        add("Not run (--no-jmh, or JMH failed: see logs/jmh.log in the run directory).")
        add("")
        return
    add("`EndToEndForwardBenchmark.forwardWindow` runs a real relay (one event loop) and two real DERP clients in one "
        "JVM, unpinned: each operation is one 1,200-byte packet, sent in windows of 16. `gc.alloc.rate.norm` is JMH's "
        "figure for the whole JVM, clients included; `relay thread` is the relay's event loop alone "
        "(`io.jderper.bench.ThreadAllocationProfiler`), the number the allocation targets are about: 0 B per packet "
        "without TLS, at most 64 B with TLS. On io_uring, Netty's transport itself allocates about 16 B per event-loop "
        "wake-up and writev (1 B per packet here). `RouterBenchmark` is relay-core's routing alone.")
    add("")
    add("| benchmark | parameters | score | gc.alloc.rate.norm (B/op) | relay thread (B/op) |")
    add("|---|---|---|---|---|")
    for r in jmh:
        name = r.get("benchmark", "?").rsplit(".", 2)
        short = ".".join(name[-2:])
        params = ", ".join(f"{k}={v}" for k, v in sorted((r.get("params") or {}).items()))
        primary = r.get("primaryMetric", {})
        secondary = r.get("secondaryMetrics", {})
        score = f"{fmt(as_float(primary.get('score')))} {primary.get('scoreUnit', '')}"
        gc = as_float((secondary.get("gc.alloc.rate.norm") or {}).get("score"))
        relay = as_float((secondary.get("threads.alloc.norm") or {}).get("score"))
        add(f"| {short} | {params} | {score} | {fmt(gc) if gc is not None else '–'} | "
            f"{fmt(relay) if relay is not None else '–'} |")
    add("")


def render(env, runs, aggregates, servers, charts, jmh=None):
    quick = env.get("quick") == "1"
    lines = []
    add = lines.append
    add(f"# jderper performance report, {env.get('date', '?')}" + (" (--quick validation run)" if quick else ""))
    add("")
    if quick:
        add("**A --quick run: small client counts and 5 s scenarios, for checking the harness, not for conclusions.**")
        add("")
    add("Command:")
    add("")
    add("```")
    add(env.get("command", "perf-reports/run"))
    add("```")
    add("")
    add("## Machine and software")
    add("")
    add("| | |")
    add("|---|---|")
    rows = [
        ("started (UTC)", env.get("started_utc")), ("finished (UTC)", env.get("finished_utc")),
        ("CPUs (nproc)", env.get("nproc")), ("CPU", env.get("cpu_model")), ("kernel", env.get("kernel")),
        ("memory", f"{int(env['mem_total_kib']) // 1024} MiB" if env.get("mem_total_kib") else None),
        ("load at start, before building (uptime)", env.get("uptime_start")),
        ("load before measuring (uptime)", env.get("uptime_before")),
        ("load after (uptime)", env.get("uptime_after")),
        ("Java", env.get("java_version")), ("JVM flags (jderper and baseline)", env.get("jvm_flags")),
        ("JVM collector on the server CPU (ergonomics)", env.get("jvm_gc_on_server_cpu")),
        ("Go", env.get("go_version")),
        ("derper", f"tailscale.com/cmd/derper {env.get('tailscale_version')} ({env.get('derper_version')})"),
        ("jderper commit", f"{env.get('git_commit')}" +
         (f" plus {env.get('git_dirty')} uncommitted changes" if env.get("git_dirty") not in (None, "0") else "")),
        ("CPU pinning", "servers on CPU 0, load generator on CPU 1 (taskset)" if env.get("pinned") == "1"
         else "none: taskset missing or a single CPU"),
        ("open-file limit", env.get("fd_limit") + (f" ({env['fd_limit_note']})" if env.get("fd_limit_note") else "")
         if env.get("fd_limit") else None),
        ("seed", env.get("seed")), ("repeats", env.get("repeats")),
        ("scenario length", f"{env.get('duration_s')} s, after a {env.get('warmup_s')} s warm-up per server start"),
        ("certificate", "one self-signed certificate for 127.0.0.1 (created by jderper), the same files for all "
                        "servers, pinned by the load generator as sha256-raw"),
    ]
    for k, v in rows:
        if v not in (None, ""):
            add(f"| {k} | {str(v).strip()} |")
    add("")
    noisy = [r for r in runs if not r["id"].startswith("warmup") and r["metrics"].get("other_cores", 0) > 0.25]
    if noisy:
        worst = max(r["metrics"]["other_cores"] for r in noisy)
        add(f"**The machine was not quiet: in {len(noisy)} of the measured runs the rest of the machine (other "
            f"processes, hypervisor steal) kept more than a quarter of a core busy, at worst {fmt(worst)} cores. "
            f"Other work competed with the servers and the load generator; see the \"rest of the machine\" rows.**")
        add("")
    add("Every value below is the median over the repeats, with the range (min–max) in brackets. Each repeat starts "
        "every server afresh. Ratios are the first server's median divided by the second's; the column \"better\" says "
        "which direction is good.")
    add("")

    sat = as_float(env.get("saturation_pps"))
    ref = env.get("reference_pairs")
    fmt_args = {"pairs": ref, "churn_clients": env.get("churn_clients"), "churn_rate": env.get("churn_rate"),
                "stun_sockets": env.get("stun_sockets")}
    for prefix, title, metrics in TABLES:
        ids = sorted((sid for sid in aggregates if sid == prefix or sid.startswith(prefix + "-")),
                     key=lambda s: int(s.split("-")[1]) if "-" in s and s.split("-")[1].isdigit() else 0)
        for sid in ids:
            per_server = aggregates[sid]
            args = dict(fmt_args)
            if "-" in sid:
                args["pairs"] = sid.split("-", 1)[1]
            args["fraction"] = env.get("latency_fraction") if prefix == "latency" else env.get("efficiency_fraction")
            heading = title.format(**args)
            if prefix == "memory":
                heading += f" ({env.get('idle_clients')} clients)"
            add(f"## {heading}")
            add("")
            present = [s for s in servers if s in per_server]
            columns = ratio_columns(servers)
            header = ("| metric | " + " | ".join(present) + " | " + " | ".join(f"{a}/{b}" for a, b in columns) +
                      " | better |")
            add(header)
            add("|---" * (len(present) + len(columns) + 2) + "|")
            for key, label, unit, better, scale in metrics:
                if not any(per_server[s].get(key) for s in present):
                    continue
                cells = [cell(per_server[s].get(key), scale) for s in present]
                rs = [ratio(per_server.get(a, {}).get(key), per_server.get(b, {}).get(key)) for a, b in columns]
                label_unit = f"{label} ({unit})" if unit else label
                add(f"| {label_unit} | " + " | ".join(cells) + " | " +
                    " | ".join(fmt(r) if r is not None else '–' for r in rs) + f" | {better} |")
            failed = {s: per_server[s]["failed_runs"] for s in present if per_server[s].get("failed_runs")}
            add("")
            if failed:
                add("Runs that failed the load generator's criteria (numbers above still include them): " +
                    ", ".join(f"{s}: {n} of {per_server[s]['runs']}" for s, n in failed.items()) + ".")
                add("")
            if prefix in ("latency", "efficiency") and sat:
                add(f"Offered load: a fraction of {fmt(sat)} packets/s ({env.get('saturation_source')}), spread "
                    f"evenly over the {args['pairs']} senders.")
                add("")
            if prefix == "stun":
                add(STUN_NOTE + ".")
                add("")
            if prefix == "efficiency":
                slow = [s for s in present if (per_server[s].get("delivered_fraction") or {}).get("min", 1) < 0.98]
                if slow:
                    add("**Not comparable:** " + ", ".join(slow) + " delivered less than 98% of the offered load in "
                        "at least one repeat, so that server was saturated and its CPU per packet is not at the same "
                        "load. Lower --efficiency-fraction.")
                    add("")
    if "stun" not in aggregates:
        add("## STUN")
        add("")
        add("Not measured in this run (" + STUN_NOTE + ").")
        add("")
    render_jmh(add, jmh)

    failures = [r for r in runs if r["status"] != 0]
    add("## Failed runs")
    add("")
    if not failures:
        add("None: every load generator run met its criteria.")
    else:
        add("| server | scenario | repeat | exit | reason |")
        add("|---|---|---|---|---|")
        for r in failures:
            reason = (r.get("reason") or ("no summary.json" if not r["summary_found"] else "")).replace("|", "/")
            add(f"| {r['server']} | {r['id']} | {r['rep']} | {r['status']} | {reason} |")
    add("")
    add("## Notes on fairness")
    add("")
    for note in FAIRNESS_NOTES + (VTHREADS_NOTES if "jderper-vthreads" in servers else []):
        add("- " + note)
    add("")
    add("## Load generator runs")
    add("")
    add("Each scenario's exact load generator arguments (the first repeat's; later repeats differ only in --out and "
        "--server-pid):")
    add("")
    seen = set()
    for r in runs:
        if (r["server"], r["id"]) in seen or r["server"] != (servers[0] if servers else r["server"]):
            continue
        seen.add((r["server"], r["id"]))
        args = re.sub(r"--(url|server-pid|out) \S+ ?", "", r.get("args", "")).strip()
        add(f"- `{r['id']}`: `./jderper loadgen {args}`")
    add("")
    if charts:
        add("## Charts")
        add("")
        add("From the load generator (first repeat of each scenario):")
        add("")
        for c in charts:
            if c["rep"] == 1:
                add(f"- {c['server']} {c['id']}: [{c['file']}]({c['file']})")
        add("")
    return "\n".join(lines)


VTHREADS_NOTES = [
    "jderper-vthreads is the virtual-thread transport experiment (bench jar, io.jderper.bench.vthreads): the same "
    "relay core, TLS provider (OpenSSL) and JVM flags as jderper, but blocking sockets with one virtual thread reading "
    "and one writing each connection, and the sessions owned by one relay-core loop per CPU under a lock instead of "
    "an event loop. It serves only the /derp upgrade, so, like the baseline, it has no STUN scenario.",
]

FAIRNESS_NOTES = [
    "All servers run the same way: pinned to CPU 0, started fresh for every repeat, warmed up with the same "
    "pairs and churn runs before the first measurement, the same certificate and load generator seed. The warm-up "
    "matters for the two JVMs (JIT); it changes little for derper.",
    "The load generator is a new JVM for every run (also on its own pinned CPU), so the first seconds of every "
    "measurement run with its JIT still cold; this caps all servers alike, but weighs more in short runs.",
    "With one seed every run uses the same node keys, so churn reopens a key before the server has seen the old "
    "connection close: each server handles duplicate connections. jderper logs each one at INFO (hundreds of lines "
    "per churn run), derper logs nothing and the baseline keeps the newest silently.",
    "jderper and the baseline pick their event-loop count from the CPUs they may use (1 when pinned) and run on "
    "io_uring with OpenSSL TLS (netty-tcnative's BoringSSL; a jderper-<provider> column names another), as does the "
    "load generator; derper runs with GOMAXPROCS from the same affinity mask (1) and Go's "
    "crypto/tls. The JVMs also run their JIT and GC threads on that one CPU; they are counted in their CPU time. With "
    "one CPU the JVM's ergonomics choose the serial collector (see the table above), as they would on a 1-vCPU VM; "
    "no collector is forced.",
    "The baseline does far less than a relay: no per-client queues or drop policy, no KeepAlives, no PeerGone, no "
    "handshake or write timeouts, no metrics, and a SendPacket that lies whole in one read buffer is forwarded in "
    "place (a retained slice of the read buffer), without the one payload copy jderper makes. It is the floor for "
    "this load generator on this machine, not a competitor.",
    "derper's defaults stay on: TCP keepalive (10 min) and TCP_USER_TIMEOUT (15 s) on every connection, 2 s write "
    "timeout; jderper has the same write timeout and sets neither socket option. None of them fires in these runs.",
    "A TLS connection holds one descriptor, except on Conscrypt (jderper-conscrypt), which adds a pipe pair: when "
    "that server runs, the idle-client count is capped so that every server fits the open-file limit. The pipes' "
    "kernel memory, like every socket buffer, is outside RSS.",
    "RSS is what /proc reports, without forcing a garbage collection in any server: a JVM's RSS includes heap it has "
    "touched and not yet returned, Go's includes memory its scavenger has not yet released. No -Xmx is set, so the "
    "JVM sizes its heap from the machine's memory.",
    "derper comes from `go install tailscale.com/cmd/derper@v1.102.3` into the shared Go tool cache; if the interop "
    "suite built it first (with `go build` inside interop/, whose go.mod may pick newer indirect dependencies), that "
    "binary is reused. Both are derper v1.102.3.",
    "The load generator does as much TLS work per packet as each server and shares the machine with it: compare "
    "CPU per unit of work at the same offered load (efficiency, churn) as well as saturation numbers.",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pin")
    p.add_argument("cert")
    p = sub.add_parser("check")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("pin")
    p = sub.add_parser("record")
    p.add_argument("file")
    p.add_argument("pairs", nargs="*")
    p = sub.add_parser("saturation")
    p.add_argument("work")
    p.add_argument("id")
    p = sub.add_parser("report")
    p.add_argument("work")
    p.add_argument("outdir")
    p.add_argument("--root", default="")
    p.add_argument("--home", default="")
    p.add_argument("--go-bin-cache", default="")
    p.add_argument("--java-home", default="")
    a = parser.parse_args()
    if a.cmd == "pin":
        cmd_pin(a.cert)
    elif a.cmd == "check":
        cmd_check(a.host, a.port, a.pin)
    elif a.cmd == "record":
        cmd_record(a.file, a.pairs)
    elif a.cmd == "saturation":
        cmd_saturation(a.work, a.id)
    else:
        os.makedirs(a.outdir, exist_ok=True)
        cmd_report(a.work, a.outdir, a.root, a.home, a.go_bin_cache, a.java_home)


if __name__ == "__main__":
    main()
