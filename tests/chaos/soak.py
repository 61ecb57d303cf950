"""soak.py: the sampler and the judge of tests/chaos/soak.sh.

  soak.py sample WORKDIR EVENTFLOW ENDPOINT
      every 10 s, one JSON line to WORKDIR/samples.jsonl: the broker's and
      the bridge's RSS (VmRSS, RssAnon, RssFile), fds and threads, the
      broker's epoch (process) and age, data.mdb's size, the store's used
      bytes (`eventflow stats`), the publish latency p50/p99 of the native
      and HTTP producers over the window, and the events acknowledged.
  soak.py verify WORKDIR
      reads the samples, the producers' files, the consumers' files and
      the streams read back (WORKDIR/store), prints the figures and a
      verdict, PASS or FAIL (exit 0 or 1).
"""
import glob
import json
import os
import re
import subprocess
import sys
import time

MB = 1024 * 1024


def proc_figures(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                    out[k] = int(v.split()[0])
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    return {"rss_kb": out.get("VmRSS"), "anon_kb": out.get("RssAnon"),
            "file_kb": out.get("RssFile"), "threads": out.get("Threads"),
            "fds": out.get("fds")}


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def epochs(work):
    """[(epoch, start_s, pid)] from WORKDIR/epochs."""
    out = []
    try:
        with open(os.path.join(work, "epochs")) as f:
            for line in f:
                e, t, p = line.split()
                out.append((int(e), int(t), int(p)))
    except OSError:
        pass
    return out


def pct(values, q):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def kind_of(path):
    return os.path.basename(path).split("-")[0]  # native, http, jobs


class Tail:
    """New complete lines of a growing file, from where it stopped."""

    def __init__(self, path):
        self.path, self.off = path, 0

    def lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except OSError:
            return []
        end = data.rfind(b"\n") + 1
        self.off += end
        return data[:end].decode().splitlines()


def sample(work, ef, endpoint):
    data = os.path.join(work, "data")
    tails = {}
    acked = {}
    out = open(os.path.join(work, "samples.jsonl"), "a")
    t0 = time.time()
    while True:
        now = time.time()
        s = {"t": round(now, 1), "since_start": round(now - t0, 1)}
        bpid = read_pid(os.path.join(work, "broker.pid"))
        ep = [e for e in epochs(work) if e[2] == bpid]
        s["epoch"] = ep[-1][0] if ep else None
        s["age"] = round(now - ep[-1][1], 1) if ep else None
        s["broker"] = proc_figures(bpid) if bpid else None
        rpid = read_pid(os.path.join(work, "bridge.pid"))
        s["bridge"] = proc_figures(rpid) if rpid else None
        try:
            st = os.stat(os.path.join(data, "data.mdb"))
            s["mdb_bytes"] = st.st_size
            s["mdb_alloc"] = st.st_blocks * 512
        except OSError:
            pass
        try:
            r = subprocess.run([ef, "--data-dir", data, "--broker", endpoint,
                                "--timeout", "3000", "stats"],
                               capture_output=True, text=True, timeout=10)
            st = json.loads(r.stdout)
            s["store_bytes"] = st.get("store_bytes")
            s["events"] = st.get("events")
        except (subprocess.TimeoutExpired, ValueError, OSError):
            s["store_bytes"] = None
        lat = {"native": [], "http": []}
        for p in glob.glob(os.path.join(work, "p", "*.lat")):
            tails.setdefault(p, Tail(p))
            k = "http" if kind_of(p) == "http" else "native"
            for line in tails[p].lines():
                lat[k].append(int(line.split()[1]) / 1000.0)
        for k, v in lat.items():
            s[f"{k}_n"] = len(v)
            s[f"{k}_p50_ms"] = pct(v, 0.50)
            s[f"{k}_p99_ms"] = pct(v, 0.99)
        for p in glob.glob(os.path.join(work, "p", "*.acked")):
            tails.setdefault(p, Tail(p))
            acked[p] = acked.get(p, 0) + len(tails[p].lines())
        s["acked"] = sum(acked.values())
        out.write(json.dumps(s) + "\n")
        out.flush()
        time.sleep(max(0.0, 10 - (time.time() - now)))


def lines_of(path):
    try:
        with open(path) as f:
            return [l.strip() for l in f if l.strip()]
    except OSError:
        return []


def slope_mb_per_h(points):
    """Least squares slope of [(t_s, kb)] in MB per hour."""
    if len(points) < 3:
        return None
    n = len(points)
    mt = sum(p[0] for p in points) / n
    mv = sum(p[1] for p in points) / n
    den = sum((p[0] - mt) ** 2 for p in points)
    if den == 0:
        return None
    k = sum((p[0] - mt) * (p[1] - mv) for p in points) / den
    return k * 3600 / 1024


def verify(work):
    fail = []
    samples = [json.loads(l) for l in lines_of(os.path.join(work, "samples.jsonl"))]
    end = json.load(open(os.path.join(work, "end.json")))
    restart_s = end["restart_every"] * 60
    run_s = end["minutes"] * 60
    summary = {"end": end}

    # -- loss: every acknowledged event stored exactly once
    print("== events")
    total_acked = total_lost = total_dup = 0
    streams = {"soak-native": "native", "soak-http": "http", "soak-jobs": "jobs"}
    stored_ids = {}
    for stream, kind in streams.items():
        acked = set()
        for p in glob.glob(os.path.join(work, "p", f"{kind}-*.acked")):
            acked.update(lines_of(p))
        counts = {}
        status = {}
        retried = 0
        for line in lines_of(os.path.join(work, "store", f"{stream}.jsonl")):
            ev = json.loads(line)
            counts[ev["event_id"]] = counts.get(ev["event_id"], 0) + 1
            status[ev["status"]] = status.get(ev["status"], 0) + 1
            retried += (ev.get("attempts") or 0) > 1
        stored_ids[stream] = set(counts)
        lost = acked - set(counts)
        dups = [i for i, c in counts.items() if c > 1]
        extra = set(counts) - acked
        total_acked += len(acked)
        total_lost += len(lost)
        total_dup += len(dups)
        print(f"  {stream:12s} acknowledged {len(acked):8d}  stored {sum(counts.values()):8d}"
              f"  lost {len(lost)}  stored twice {len(dups)}"
              f"  stored, not acknowledged {len(extra)}")
        if stream == "soak-jobs":
            print(f"  {'':12s} statuses {status}; {retried} took more than one attempt")
            if status.get("PROCESSED", 0) != sum(counts.values()):
                fail.append(f"{stream}: not every job PROCESSED at the end ({status})")
        if lost:
            fail.append(f"{stream}: {len(lost)} acknowledged events lost (e.g. {sorted(lost)[:3]})")
        if dups:
            fail.append(f"{stream}: {len(dups)} events stored more than once")
    summary.update(acked=total_acked, lost=total_lost, stored_twice=total_dup)

    # -- consumer groups: at least once across the members
    print("== consumer groups (members joining and leaving)")
    for stream in ("soak-native", "soak-http"):
        files = glob.glob(os.path.join(work, "c", f"{stream}.*.ids"))
        seen, got = set(), 0
        for p in files:
            ids = lines_of(p)
            got += len(ids)
            seen.update(ids)
        missed = stored_ids[stream] - seen
        print(f"  g-{stream:12s} members {len(files):3d}  delivered {got:8d}"
              f"  distinct {len(seen):8d}  again {got - len(seen):6d}  never delivered {len(missed)}")
        summary[f"group_{stream}"] = {"members": len(files), "missed": len(missed),
                                      "redelivered": got - len(seen)}
        if missed:
            fail.append(f"g-{stream}: {len(missed)} stored events never delivered")
    if end.get("group_lag"):
        fail.append(f"group lag {end['group_lag']} at the end")

    # -- restarts and clean stops
    print("== broker restarts")
    stops = [l.split() for l in lines_of(os.path.join(work, "stops"))]
    for s in stops:
        if s[2] == "term" and s[3] != "0":
            fail.append(f"{'bridge' if s[0] == 'bridge' else 'broker epoch ' + s[0]}: "
                        f"SIGTERM exit status {s[3]}")
    kills = sum(1 for s in stops if s[2] == "kill")
    terms = sum(1 for s in stops if s[2] == "term" and s[0] != "bridge")
    print(f"  {end['restarts']} restarts during the load ({kills} kill -9), "
          f"{terms} broker SIGTERM stops in all; {end['replays']} DLQ replays")

    # -- memory, fds, threads: per broker epoch at the same age
    print("== broker, per process (epoch), figures at the same age")
    ep_start = {e: t for e, t, _ in epochs(work)}
    by_ep = {}
    for s in samples:
        if s.get("broker") and s.get("epoch"):
            by_ep.setdefault(s["epoch"], []).append(s)
    age_at = 0.8 * restart_s
    warm = min(60, restart_s / 4)
    rows = []
    for e in sorted(by_ep):
        ss = by_ep[e]
        if ss[-1]["age"] < age_at - 10:
            continue  # the last, short epoch (the end)
        at = min(ss, key=lambda s: abs(s["age"] - age_at))
        early = min(ss, key=lambda s: abs(s["age"] - warm))
        pts = [(s["age"], s["broker"]["anon_kb"]) for s in ss if s["age"] >= warm]
        half = min(ss, key=lambda s: abs(s["age"] - restart_s / 2))
        row = {"epoch": e, "anon_early_mb": early["broker"]["anon_kb"] / 1024,
               "anon_mb": at["broker"]["anon_kb"] / 1024,
               "rss_mb": at["broker"]["rss_kb"] / 1024,
               "fds": at["broker"]["fds"], "threads": at["broker"]["threads"],
               "fds_max": max(s["broker"]["fds"] for s in ss),
               "slope": slope_mb_per_h(pts),
               # growth over the second half of the epoch (to 80%)
               "half_growth_mb": (at["broker"]["anon_kb"] -
                                  half["broker"]["anon_kb"]) / 1024}
        rows.append(row)
        sl = "-" if row["slope"] is None else f"{row['slope']:+.1f}"
        print(f"  epoch {e:2d}: anon {row['anon_early_mb']:6.1f} MB at {warm:.0f} s,"
              f" {row['anon_mb']:6.1f} MB at {age_at:.0f} s (VmRSS {row['rss_mb']:6.1f} MB,"
              f" mapped store included); fds {row['fds']} (max {row['fds_max']}),"
              f" threads {row['threads']}; anon slope {sl} MB/h,"
              f" {row['half_growth_mb']:+.2f} MB from {restart_s / 2:.0f} s to {age_at:.0f} s")
    summary["broker_epochs"] = rows
    # under ASan freed memory waits in a quarantine (256 MB a process by
    # default) and every allocation has its shadow: memory grows until the
    # quarantine is full, so there only LeakSanitizer judges memory
    judge_mem = not end.get("asan")
    if not judge_mem:
        print("  (ASan: memory grows with its quarantine of freed blocks;"
              " LeakSanitizer judges it, fds and threads are judged)")
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        # a leak grows in every process; a malloc arena's step now and
        # then does not: the median over the epochs
        hg = pct([r["half_growth_mb"] for r in rows], 0.5)
        print(f"  median growth over the second half of an epoch: {hg:+.2f} MB (bound 1 MB)")
        if judge_mem and hg > 1:
            fail.append(f"broker anon memory grows within its epochs: median {hg:+.2f} MB"
                        f" from {restart_s / 2:.0f} s to {age_at:.0f} s")
        if judge_mem and b["anon_mb"] > a["anon_mb"] * 1.25 + 4:
            fail.append(f"broker anon memory at {age_at:.0f} s grew from "
                        f"{a['anon_mb']:.1f} MB (epoch {a['epoch']}) to {b['anon_mb']:.1f} MB "
                        f"(epoch {b['epoch']})")
        if b["fds"] > a["fds"] + 10:
            fail.append(f"broker fds at {age_at:.0f} s: {a['fds']} -> {b['fds']}")
        if b["threads"] > a["threads"] + 2:
            fail.append(f"broker threads at {age_at:.0f} s: {a['threads']} -> {b['threads']}")
    else:
        print("  (fewer than two full epochs: nothing to compare)")

    # -- the bridge: one process throughout; early window vs the last one
    print("== bridge (one process throughout), after warm-up vs the end")
    win = min(600, run_s / 4)
    warm_s = min(120, run_s / 6)
    bs = [s for s in samples if s.get("bridge")]
    e_w = [s for s in bs if warm_s <= s["since_start"] < warm_s + win]
    l_w = [s for s in bs if s["since_start"] >= bs[-1]["since_start"] - win] if bs else []
    if e_w and l_w:
        def med(ss, k):
            return pct([s["bridge"][k] for s in ss], 0.5)
        ea, la = med(e_w, "anon_kb") / 1024, med(l_w, "anon_kb") / 1024
        ef_, lf = max(s["bridge"]["fds"] for s in e_w), max(s["bridge"]["fds"] for s in l_w)
        et, lt = max(s["bridge"]["threads"] for s in e_w), max(s["bridge"]["threads"] for s in l_w)
        sl = slope_mb_per_h([(s["since_start"], s["bridge"]["anon_kb"])
                             for s in bs if s["since_start"] >= warm_s])
        print(f"  anon (median) {ea:.1f} MB -> {la:.1f} MB; fds (max) {ef_} -> {lf};"
              f" threads {et} -> {lt}; anon slope {sl if sl is None else round(sl, 2)} MB/h"
              f" (windows of {win:.0f} s)")
        summary["bridge"] = {"anon_mb": [round(ea, 1), round(la, 1)], "fds": [ef_, lf],
                             "threads": [et, lt]}
        if judge_mem and la > ea * 1.1 + 4:
            fail.append(f"bridge anon memory {ea:.1f} -> {la:.1f} MB")
        if lf > ef_ + 10:
            fail.append(f"bridge fds {ef_} -> {lf}")

    # -- the store
    print("== store")
    st = [s for s in samples if s.get("store_bytes") and s.get("events")]
    if st:
        a, b = st[0], st[-1]
        mid = [s for s in st if s["since_start"] >= warm_s] or st
        bpe = [s["store_bytes"] / s["events"] for s in (mid[0], b)]
        print(f"  used {a['store_bytes'] / MB:.1f} MB ({a['events']} events) -> "
              f"{b['store_bytes'] / MB:.1f} MB ({b['events']} events);"
              f" {bpe[0]:.0f} -> {bpe[1]:.0f} bytes per event;"
              f" data.mdb {b.get('mdb_bytes', 0) / MB:.1f} MB")
        summary["store"] = {"used_mb": [round(a["store_bytes"] / MB, 1),
                                        round(b["store_bytes"] / MB, 1)],
                            "events": [a["events"], b["events"]],
                            "bytes_per_event": [round(bpe[0]), round(bpe[1])],
                            "mdb_mb": round(b.get("mdb_bytes", 0) / MB, 1)}
        if bpe[1] > bpe[0] * 1.5:
            fail.append(f"store bytes per event grew {bpe[0]:.0f} -> {bpe[1]:.0f}")

    # -- latency over time, from the producers' own records
    print("== publish latency (ms, the answered attempt), per slice of the run")
    lat = {"native": [], "http": []}
    for p in glob.glob(os.path.join(work, "p", "*.lat")):
        k = "http" if kind_of(p) == "http" else "native"
        for line in lines_of(p):
            t, us, tries = line.split()
            lat[k].append((int(t) / 1000.0, int(us) / 1000.0, int(tries)))
    t0 = min((v[0][0] for v in lat.values() if v), default=0)
    nslices = 6
    sl_s = run_s / nslices
    summary["latency"] = {}
    for k, v in lat.items():
        v.sort()
        parts = []
        for i in range(nslices):
            xs = [x[1] for x in v if i * sl_s <= x[0] - t0 < (i + 1) * sl_s]
            if xs:
                parts.append(f"{pct(xs, .5):.1f}/{pct(xs, .99):.1f}")
        allx = [x[1] for x in v]
        retried = sum(1 for x in v if x[2] > 1)
        print(f"  {k:6s} p50/p99 by slice of {sl_s:.0f} s: {'  '.join(parts)};"
              f" all: {pct(allx, .5) or 0:.1f}/{pct(allx, .99) or 0:.1f} over {len(allx)}"
              f" requests, {retried} retried")
        summary["latency"][k] = parts

    # -- LeakSanitizer
    if end.get("asan"):
        print("== LeakSanitizer (broker and bridge of build-asan)")
        leaks = []
        for p in sorted(glob.glob(os.path.join(work, "logs", "broker.*.log")) +
                        [os.path.join(work, "logs", "bridge.log")]):
            text = open(p, errors="replace").read()
            for m in re.finditer(r"SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer).*", text):
                leaks.append(f"{os.path.basename(p)}: {m.group(0)}")
            if "LeakSanitizer has encountered a fatal error" in text:
                leaks.append(f"{os.path.basename(p)}: LeakSanitizer could not run")
            if "runtime error:" in text:
                leaks.append(f"{os.path.basename(p)}: UBSan runtime error")
        clean = terms + 1
        if leaks:
            for l in leaks:
                print("  " + l)
            fail.append(f"sanitizers: {len(leaks)} reports")
            summary["lsan"] = leaks
        else:
            print(f"  LeakSanitizer: clean ({clean} clean stops: {terms} of the broker,"
                  f" 1 of the bridge; {kills} kill -9 stops report nothing)")
            summary["lsan"] = "clean"

    summary["verdict"] = "FAIL" if fail else "PASS"
    summary["fail"] = fail
    with open(os.path.join(work, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"soak: {total_acked} events acknowledged, {total_lost} lost, {total_dup} stored twice")
    if fail:
        for f_ in fail:
            print("  FAIL: " + f_)
        print("soak: verdict FAIL")
        return 1
    print("soak: verdict PASS")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "sample":
        sample(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 3 and sys.argv[1] == "verify":
        sys.exit(verify(sys.argv[2]))
    else:
        sys.exit(__doc__)
