#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""The "gpup" generic netlink family, through the kernel's own ynl library.

Runs inside the test guest, gpup_sim loaded.  Every request goes through
tools/net/ynl of the kernel tree reading Documentation/netlink/specs/gpup.yaml,
so the spec is exercised as much as the kernel: dumps across several
messages, lookups by id and name, refused requests with their extack
reason, the privilege check, the multicast reports of a migration driven
by gpup_migrate, and the kernel's policy (read back through nlctrl)
against the spec.

Prints TAP.
"""

import os
import shutil
import struct
import subprocess
import sys
import time

TOP = os.environ["GPUP_TOP"]
CACHE = os.environ["GPUP_CACHE"]
BIN = os.path.join(CACHE, "bin")
KSRC = os.path.join(CACHE, "linux-source-6.12")
SPEC = os.path.join(TOP, "Documentation/netlink/specs/gpup.yaml")
NLCTRL = os.path.join(KSRC, "Documentation/netlink/specs/nlctrl.yaml")
PARENT = "/sys/class/mdev_bus/gpup_sim/mdev_supported_types"
MIB = 1 << 20
ENGINE_ATTRS = ("engine-time", "engine-throttled", "engine-backlog", "engine-budget")

# An unprivileged run cannot read the cache: it is handed a copy
YNL = os.environ.get("GPUP_YNL", os.path.join(KSRC, "tools/net/ynl"))
SPEC = os.environ.get("GPUP_SPEC", SPEC)
sys.path.insert(0, YNL)
from lib import YnlFamily, NlError  # noqa: E402

import yaml  # noqa: E402


def family(recv_size=0):
    return YnlFamily(SPEC, "", recv_size=recv_size)


def vf_create(profile):
    uuid = open("/proc/sys/kernel/random/uuid").read().strip()
    with open(f"{PARENT}/gpup-{profile}/create", "w") as f:
        f.write(uuid)
    return uuid


def vf_remove(uuid):
    with open(f"/sys/bus/mdev/devices/{uuid}/remove", "w") as f:
        f.write("1")


def vf_by_name(nl, name):
    return nl.do("vf-get", {"name": name})


def engine_sane(v):
    """A VF's engine figures: each present, a count, the budget a percentage."""
    for k in ENGINE_ATTRS:
        assert type(v.get(k)) is int and v[k] >= 0, (k, v)
    assert v["engine-budget"] <= 100, v


def refused(fn, errno_want, msg_part=None):
    """fn() must fail with -errno_want (and an extack naming msg_part)."""
    try:
        fn()
    except NlError as e:
        if -e.nl_msg.error != errno_want:
            return f"errno {-e.nl_msg.error}, want {errno_want} ({e})"
        ext = (e.nl_msg.extack or {}).get("msg", "")
        if msg_part and msg_part not in ext:
            return f"extack {ext!r} lacks {msg_part!r}"
        return None
    return "was accepted"


class Counter:
    """A socket stand-in counting the reads that carry dump data."""

    def __init__(self, sock):
        self.sock = sock
        self.recvs = 0

    def recv(self, *args):
        buf = self.sock.recv(*args)
        off = 0
        while off + 16 <= len(buf):
            length, kind = struct.unpack_from("=IH", buf, off)
            if kind >= 16:          # not NOOP/ERROR/DONE/OVERRUN: data
                self.recvs += 1
                break
            off += max((length + 3) & ~3, 16)
        return buf

    def __getattr__(self, name):
        return getattr(self.sock, name)


def t_parent_and_profiles():
    nl = family()
    parents = nl.dump("parent-get", {})
    assert len(parents) == 1, parents
    p = parents[0]
    pool = int(open("/sys/module/gpup_sim/parameters/vram_pool_mb").read()) * MIB
    assert p["name"] == "gpup_sim" and p["driver"] == "gpup_sim", p
    assert p["vram-total"] == pool, (p, pool)
    profiles = nl.dump("profile-get", {"parent-id": p["id"]})
    by_name = {x["name"]: x for x in profiles}
    assert set(by_name) == {"small", "medium", "large", "xlarge"}, profiles
    assert by_name["medium"]["vram-size"] == 256 * MIB
    assert by_name["large"]["engines"] == 4
    before = by_name["medium"]["available"]
    free = p["vram-free"]
    uuid = vf_create("medium")
    try:
        after = {x["name"]: x for x in nl.dump("profile-get", {})}
        assert after["medium"]["available"] == before - 1, (before, after)
        p2 = nl.dump("parent-get", {})[0]
        assert p2["vram-free"] == free - 256 * MIB and p2["vfs"] == p["vfs"] + 1, p2
    finally:
        vf_remove(uuid)
    assert nl.dump("profile-get", {"parent-id": p["id"] + 1000}) == []


def t_vf_get():
    nl = family()
    a, b = vf_create("small"), vf_create("medium")
    try:
        va, vb = vf_by_name(nl, a), vf_by_name(nl, b)
        assert va["profile-name"] == "small" and va["vram-size"] == 64 * MIB, va
        assert vb["profile-name"] == "medium" and vb["engines"] == 2, vb
        assert va["mig-state"] == "running" and va["engine-state"] == "idle", va
        assert va["vram-used"] == 0 and va["migrations"] == 0, va
        engine_sane(va)
        engine_sane(vb)
        assert (va["engine-time"], va["engine-throttled"], va["engine-backlog"]) == \
            (0, 0, 0), ("a new VF has run nothing", va)
        assert nl.do("vf-get", {"id": vb["id"]})["name"] == b
        assert nl.do("vf-get", {"id": vb["id"], "name": b})["id"] == vb["id"]
        dumped = nl.dump("vf-get", {"parent-id": va["parent-id"]})
        names = {v["name"] for v in dumped}
        assert {a, b} <= names, names
        for v in dumped:
            engine_sane(v)
    finally:
        vf_remove(a)
        vf_remove(b)
    gone = refused(lambda: nl.do("vf-get", {"id": va["id"]}), 19, "no such VF")
    assert gone is None, gone


def t_hostile_requests():
    nl = family()
    a, b = vf_create("small"), vf_create("small")
    try:
        ida = vf_by_name(nl, a)["id"]
        cases = [
            ({}, 22, "name the VF"),
            ({"id": 0}, 34, "out of range"),             # policy: min 1
            ({"name": "x" * 64}, 22, "policy validation"),  # max-len 63
            ({"id": ida, "name": b}, 22, "different VFs"),
            ({"name": "no-such-vf"}, 19, "no such VF"),
            ({"id": ida, "parent-id": 1}, 22, None),     # not in do's policy
        ]
        for req, err, msg in cases:
            why = refused(lambda: nl.do("vf-get", req), err, msg)
            assert why is None, (req, why)
        why = refused(lambda: nl.dump("vf-get", {"parent-id": 0}), 34)
        assert why is None, why
        assert vf_by_name(nl, a)["id"] == ida     # nothing broke
    finally:
        vf_remove(a)
        vf_remove(b)


def t_dump_many():
    """More VFs than one dump message holds: each exactly once."""
    nl = family(recv_size=4096)
    nl.sock = Counter(nl.sock)
    made = []
    try:
        while len(made) < 24:
            made.append(vf_create("small"))
        vfs = nl.dump("vf-get", {})
        names = [v["name"] for v in vfs]
        assert len(names) == len(set(names)), "a VF twice"
        assert set(made) <= set(names), "a VF missing"
        assert nl.sock.recvs >= 2, f"one message only ({nl.sock.recvs} reads)"
        print(f"# {len(vfs)} VFs in {nl.sock.recvs} reads")
    finally:
        for u in made:
            vf_remove(u)


def run_job(uuid, mib):
    """gpup_job on the VF: FILL, COPY, FENCE; its wall time in ns."""
    t0 = time.monotonic_ns()
    r = subprocess.run([f"{BIN}/gpup_job", uuid, str(mib)], capture_output=True, text=True,
                       timeout=600)
    wall = time.monotonic_ns() - t0
    assert r.returncode == 0 and "verified" in r.stdout, (r.stdout, r.stderr)
    return wall


def t_engine_job():
    """A job's engine time shows in vf-get, nothing left in the backlog."""
    nl = family()
    a = vf_create("small")
    try:
        before = vf_by_name(nl, a)
        wall = run_job(a, 8)
        after = vf_by_name(nl, a)
        engine_sane(after)
        ran = after["engine-time"] - before["engine-time"]
        held = after["engine-throttled"] - before["engine-throttled"]
        print(f"# {ran} ns run, {held} ns throttled in {wall} ns, "
              f"budget {after['engine-budget']}%")
        assert ran > 0, ("engine-time did not grow", before, after)
        assert held >= 0, ("engine-throttled went back", before, after)
        # one engine: running or held back, only while the job lasted
        assert ran + held <= wall, (ran, held, wall)
        assert after["engine-backlog"] == 0 and after["engine-state"] == "idle", after
        again = vf_by_name(nl, a)
        assert again["engine-time"] == after["engine-time"], ("idle, yet running", again)
    finally:
        vf_remove(a)


def t_engine_budget():
    """25% per engine of the profile by default; set through sysfs, seen here."""
    nl = family()
    made = {p: vf_create(p) for p in ("small", "medium")}
    try:
        for p, u in made.items():
            v = vf_by_name(nl, u)
            want = min(25 * v["engines"], 100)
            assert v["engine-budget"] == want, (p, v["engine-budget"], want)
        u = made["small"]
        path = f"/sys/bus/mdev/devices/{u}/gpup/engine_budget"
        for pct in (10, 100, 25):
            with open(path, "w") as f:
                f.write(str(pct))
            with open(path) as f:
                assert int(f.read()) == pct, path
            assert vf_by_name(nl, u)["engine-budget"] == pct, pct
    finally:
        for u in made.values():
            vf_remove(u)


def as_nobody(args):
    """Run this script's helper mode as user nobody, no capabilities."""
    copy = "/tmp/gpup-ynl"
    if not os.path.isdir(copy):
        shutil.copytree(YNL, copy)
        shutil.copy(SPEC, copy)
        shutil.copy(__file__, copy)
        subprocess.run(["chmod", "-R", "a+rX", copy], check=True)
    env = dict(os.environ, GPUP_YNL=copy, GPUP_SPEC=f"{copy}/gpup.yaml")
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           "--inh-caps=-all", sys.executable,
                           f"{copy}/{os.path.basename(__file__)}"] + args,
                          capture_output=True, text=True, env=env, cwd="/")


def t_clear_stats_needs_admin():
    nl = family()
    a, b = vf_create("small"), vf_create("small")
    try:
        subprocess.run([f"{BIN}/gpup_migrate", "--fill", "1", a, b], check=True,
                       capture_output=True)
        assert vf_by_name(nl, a)["migrations"] == 1
        r = as_nobody(["--clear", a])
        assert r.returncode == 1 and "EPERM" in r.stdout, (r.returncode, r.stdout, r.stderr)
        assert vf_by_name(nl, a)["migrations"] == 1, "an unprivileged clear took effect"
        r = as_nobody(["--get", a])
        assert r.returncode == 0, ("reading needs no privilege", r.stdout, r.stderr)
        nl.do("vf-clear-stats", {"name": a})
        v = vf_by_name(nl, a)
        assert v["migrations"] == 0 and v["precopy-bytes"] == 0, v
    finally:
        vf_remove(a)
        vf_remove(b)


def collect(nl, proc, names):
    """Notifications until @proc exits, and a little after."""
    events = []
    end = None
    while end is None or time.monotonic() < end:
        nl.check_ntf()
        for m in nl.async_msg_queue:
            if m["msg"].get("name") in names:
                events.append(m)
        nl.async_msg_queue.clear()
        if end is None and proc.poll() is not None:
            end = time.monotonic() + 0.5
        time.sleep(0.02)
    return events


def states(events, name):
    return [(e["msg"]["old-mig-state"], e["msg"]["mig-state"]) for e in events
            if e["name"] == "mig-state-ntf" and e["msg"]["name"] == name]


def t_monitor_migration():
    nl = family()
    nl.ntf_subscribe("mig")
    a, b = vf_create("medium"), vf_create("medium")
    try:
        proc = subprocess.Popen([f"{BIN}/gpup_migrate", "--fill", "32", "--pause", "100",
                                 a, b], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        events = collect(nl, proc, {a, b})
        assert proc.returncode == 0, proc.stderr.read()
        src = states(events, a)
        assert src[:4] == [("running", "pre-copy"), ("pre-copy", "pre-copy-p2p"),
                           ("pre-copy-p2p", "stop-copy"), ("stop-copy", "stop")], src
        dst = states(events, b)
        i = dst.index(("stop", "resuming"))
        assert dst[i + 1] == ("resuming", "stop") and dst[-1][1] == "running", dst
        prog = [e["msg"]["precopy-bytes"] for e in events
                if e["name"] == "mig-progress-ntf"]
        assert prog and prog == sorted(prog) and prog[-1] > 0, prog
        done = {e["msg"]["direction"]: e["msg"] for e in events
                if e["name"] == "mig-done-ntf"}
        assert done["save"]["result"] == "ok" and done["resume"]["result"] == "ok", done
        assert done["save"]["precopy-bytes"] > 32 * MIB, done["save"]
        assert done["save"]["precopy-bytes"] >= prog[-1], (prog[-1], done["save"])
        order = [e["name"] for e in events if e["msg"]["name"] == a]
        assert order.index("mig-done-ntf") > order.index("mig-progress-ntf"), order
        vs, vd = vf_by_name(nl, a), vf_by_name(nl, b)
        sent = vs["precopy-bytes"] + vs["stopcopy-bytes"]
        assert vs["migrations"] == 1 and sent == vd["resume-bytes"], (vs, vd)
        print(f"# {len(events)} events, {len(prog)} progress, {sent} bytes")
    finally:
        vf_remove(a)
        vf_remove(b)


def t_monitor_refusal():
    nl = family()
    nl.ntf_subscribe("mig")
    a, b = vf_create("medium"), vf_create("small")
    try:
        proc = subprocess.Popen([f"{BIN}/gpup_migrate", a, b], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        events = collect(nl, proc, {a, b})
        assert proc.returncode == 1, "migration to another profile succeeded"
        done = [e["msg"] for e in events if e["name"] == "mig-done-ntf"
                and e["msg"]["name"] == b]
        assert len(done) == 1 and done[0]["result"] == "failed", done
        assert done[0]["error-field"] == "profile", done
        assert "profile" in done[0]["error"], done
        v = vf_by_name(nl, b)
        assert v["error-field"] == "profile" and "profile" in v["error"], v
    finally:
        vf_remove(a)
        vf_remove(b)


def spec_ops():
    """{(cmd, 'do'|'dump'): {attr value: spec attr}} of the spec's requests."""
    spec = yaml.safe_load(open(SPEC))
    sets = {s["name"]: {a["name"]: dict(a, value=i) for i, a in
                        enumerate(s["attributes"], 1)} for s in spec["attribute-sets"]}
    consts = {d["name"]: d["value"] for d in spec["definitions"] if d["type"] == "const"}
    out = {}
    for cmd, op in enumerate(spec["operations"]["list"], 1):
        for mode in ("do", "dump"):
            if mode in op:
                attrs = op[mode].get("request", {}).get("attributes", [])
                out[(cmd, mode)] = {sets[op["attribute-set"]][n]["value"]:
                                    sets[op["attribute-set"]][n] for n in attrs}
    return spec, consts, out


def t_policy_matches_spec():
    """What the kernel accepts per operation is what the spec says."""
    spec, consts, want = spec_ops()
    ctrl = YnlFamily(NLCTRL, "")
    op_pol, pols = {}, {}
    for m in ctrl.dump("getpolicy", {"family-name": "gpup"}):
        if "op-policy" in m:
            op = dict(m["op-policy"])
            op_pol[op.pop("op-id")] = op
        if "policy" in m:
            pol = dict(m["policy"])
            pols.setdefault(pol.pop("policy-id"), {})[pol.pop("attr-id")] = pol
    types = {"u32": "u32", "u64": "u64", "string": "nul-string"}
    for (cmd, mode), attrs in want.items():
        modes = op_pol.get(cmd, {})
        got = pols.get(modes.get(mode), {}) if mode in modes else {}
        assert set(got) == set(attrs), (cmd, mode, sorted(got), sorted(attrs))
        for value, a in attrs.items():
            k = got[value]
            assert k["type"] == types[a["type"]], (cmd, a["name"], k)
            checks = a.get("checks", {})
            if "min" in checks:
                assert k.get("min-value-u") == checks["min"], (cmd, a["name"], k)
            if "max-len" in checks:
                want_len = consts.get(checks["max-len"], checks["max-len"])
                assert k.get("max-length") == want_len, (cmd, a["name"], k)
    assert set(op_pol) == {c for c, _ in want}, (sorted(op_pol), sorted(want))
    admin = {op["name"] for op in spec["operations"]["list"]
             if "admin-perm" in op.get("flags", [])}
    assert admin == {"vf-clear-stats"}, admin


TESTS = [t_parent_and_profiles, t_vf_get, t_engine_job, t_engine_budget,
         t_hostile_requests, t_dump_many,
         t_clear_stats_needs_admin, t_monitor_migration, t_monitor_refusal,
         t_policy_matches_spec]


def helper(argv):
    """As an unprivileged user: --clear NAME / --get NAME; errors by name."""
    nl = family()
    try:
        if argv[0] == "--clear":
            nl.do("vf-clear-stats", {"name": argv[1]})
        else:
            vf_by_name(nl, argv[1])
    except NlError as e:
        print("EPERM" if -e.nl_msg.error == 1 else f"errno {-e.nl_msg.error}")
        return 1
    return 0


def main():
    if len(sys.argv) > 1:
        return helper(sys.argv[1:])
    failed = 0
    for i, t in enumerate(TESTS, 1):
        try:
            t()
            print(f"ok {i} - {t.__name__[2:]}")
        except Exception as e:  # noqa: BLE001 - any failure is the test's
            failed += 1
            print(f"# {t.__name__}: {type(e).__name__}: {e}")
            print(f"not ok {i} - {t.__name__[2:]}")
        sys.stdout.flush()
    print(f"# netlink: {len(TESTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
