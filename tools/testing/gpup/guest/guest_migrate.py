#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Live migration of a VM whose guest OS really uses its GPU-P VF.

Runs inside the test guest, gpup_sim loaded.  One L2 VM boots the L2
kernel (gpup_vf built in) and runs gpup-work: CPU stores through the VRAM
mmap and engine jobs (FILL, COPY, FENCE waits), each checked as it
completes.  The same running guest then moves, case after case, between
VFs with the real QEMU: pre-copy while it works, back to the first VF,
device state over multifd channels, migrate_cancel then a new migration,
a target of another profile refused during pre-copy while it keeps
working, and a stop in the middle of an engine job.  After every
switchover the workload must go on completing jobs on the target (fences
signalled by MSI), re-verify everything it wrote since it started, and
report no mismatch, no timed-out wait and no engine error.

Nothing writes the migrated VF's VRAM but its guest.  Each case prints
the guest-visible stall at switchover (the longest gap between completed
jobs) next to QEMU's downtime, and the workload's throughput during
pre-copy over its throughput before (the brownout of dirty tracking).

Prints TAP.  With --demo, one migration told for a person; with --bench,
the stall and brownout as ratios.
"""

import os
import re
import sys
import time

from l2vm import L2VM, L2Timeout, available
from qemu_migrate import (WORK, OtherHost, debugfs, dma_logging, migrate, tap_case,
                          trace_text, vf_create, vf_remove)

PROGRESS = re.compile(
    r"gpup-work: t=([\d.]+) jobs=(\d+) jobs/s=([\d.]+) written=[\d.]+MiB"
    r" gap_ms=(\d+) gap_max_ms=(\d+) mismatches=(\d+) timeouts=(\d+) errors=(\d+)")
# 32 MiB of the VF's VRAM in regions of 256 KiB: a working set that
# pre-copy has to chase, jobs short enough to see a stall to the tens of ms
WORK_ARGS = "--mib 32 --region-kib 256 --batch 4 --seed 7"
BOOT_TIMEOUT = 900
MIB = 1 << 20
# gpup-work's "busy": long engine COPYs beyond its 32 MiB, which
# case_jobs_running stops with "busy stop" once the guest works on the
# target.  This is its cap, far beyond the move: 9 to 26 s from the busy
# run's start to the guest's reports from the target on the 2-core build
# machine (QEMU's total time 2.5 to 11 s), several times that under the
# debug kernel.
BUSY_SECONDS = 900
BUSY_DONE = (r"gpup-work: busy done copies=(\d+) bytes=(\d+) t=([\d.]+) drained=(\d+)"
             r" rate=(\d+)MiB/s depth=(\d+) (ok|FAILED.*)")
STATUS_BUSY, STATUS_HALTED = 0x1, 0x2   # the VF's STATUS register


def reports(vm, since=0):
    """The workload's per-second reports on vm's console from line since on."""
    out = []
    for line in vm.console.lines[since:]:
        m = PROGRESS.search(line)
        if m:
            out.append({"t": float(m[1]), "jobs": int(m[2]), "rate": float(m[3]),
                        "gap": int(m[4]), "bad": int(m[6]) + int(m[7]) + int(m[8]),
                        "line": line})
    return out


def mark(vm):
    return len(vm.console.lines)


def line_in(vm, pattern, since=0, timeout=0):
    """(index, match) of the first line from since on that matches pattern.

    Polls for up to timeout seconds, then (None, None); unlike vm.wait()
    it leaves the console's position alone, so it finds lines a wait()
    went past.
    """
    regex = re.compile(pattern)
    deadline = time.time() + timeout
    while True:
        for i, line in enumerate(vm.console.lines[since:], since):
            m = regex.search(line)
            if m:
                return i, m
        if time.time() >= deadline or vm.console.closed:
            return None, None
        time.sleep(0.5)


def failures_in(vm, since=0):
    """Lines where the workload or the guest kernel said something went wrong."""
    bad = re.compile(r"gpup-work: (mismatch|error|verify FAILED)|Kernel panic|Oops|BUG:|"
                     r"WARNING:|gpup-l2: exit")
    return [line for line in vm.console.lines[since:] if bad.search(line)]


class Case:
    def __init__(self):
        self.failures = []

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
        return ok


def works_on(c, vm, since, what, reports_needed=2, timeout=240):
    """The workload runs on vm: reports after since, jobs growing, nothing bad."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = reports(vm, since)
        if len(r) >= reports_needed and r[-1]["jobs"] > r[0]["jobs"]:
            break
        time.sleep(0.5)
    r = reports(vm, since)
    c.check(len(r) >= reports_needed and r[-1]["jobs"] > r[0]["jobs"],
            f"{what}: the workload does not complete jobs ({len(r)} reports)")
    c.check(not any(x["bad"] for x in r), f"{what}: {[x['line'] for x in r if x['bad']][:1]}")
    bad = failures_in(vm, since)
    c.check(not bad, f"{what}: {bad[:2]}")
    return r


def verify(c, vm, what):
    """Everything the guest wrote since it started reads back as written."""
    vm.send("verify")
    try:
        m = vm.wait(r"gpup-work: verify (ok \d+|FAILED.*)", timeout=300)
    except L2Timeout as e:
        return c.check(False, f"{what}: verify: {e}")
    return c.check(m[1].startswith("ok"), f"{what}: verify {m[1]}")


def switchover(c, src, dst, since_src, since_dst, info):
    """What the guest saw: its stall, and its rate in pre-copy over before."""
    before = [r["rate"] for r in reports(src, 0)[:since_src["reports"]]][-3:]
    during = [r["rate"] for r in reports(src, since_src["line"])]
    after = reports(dst, since_dst)
    stall = max([r["gap"] for r in reports(src, since_src["line"])[-1:] + after[:2]],
                default=None)
    brownout = (sum(during) / len(during)) / (sum(before) / len(before)) \
        if during and before and sum(before) else None
    return {"stall": stall, "brownout": brownout, "downtime": info.get("downtime"),
            "total": info.get("total-time")}


def figures(sw, info):
    b = f"{sw['brownout']:.2f}" if sw["brownout"] is not None else "?"
    relaxed = " (downtime limit relaxed to 2 s after a minute)" if info.get("relaxed") else ""
    return (f"total {sw['total']} ms{relaxed}, QEMU downtime {sw['downtime']} ms, guest stall"
            f" {sw['stall']} ms, pre-copy throughput {b} of before;"
            f" device {info.get('vfio', {}).get('transferred', 0)} bytes")


def hop(c, ctx, dst_uuid, name, caps=(), params=None, cancel_after=None, what=None,
        netns=None, uri=None):
    """Migrate the running guest to a new VM on dst_uuid; returns (info, sw).

    netns: the new VM's network namespace (another host), uri where it
    listens; by default this host and a unix socket.
    """
    src = ctx["vm"]
    dst = L2VM(name, dst_uuid, incoming=True, mode="work", netns=netns)
    ctx.setdefault("spare", []).append(dst)
    src_mark = {"line": mark(src), "reports": len(reports(src))}
    dst_mark = mark(dst)
    # a VM keeps its capabilities: multifd only where this hop asks for it
    for vm in (src, dst):
        vm.qmp.cmd("migrate-set-capabilities",
                   capabilities=[{"capability": "multifd", "state": "multifd" in caps}])
    # a VM keeps its parameters too: each hop starts from the same ones
    params = {"downtime-limit": 300, "max-bandwidth": 1 << 30, **(params or {})}
    # a guest that dirties its working set faster than pre-copy sends it
    # never meets a tight limit: relax it to 2 s after a minute, as
    # operators do; a limit already that loose stays (a lower one would
    # change what the hop is about, e.g. a stop with the engine busy)
    relax = not cancel_after and params["downtime-limit"] < 2000
    info = migrate(src, dst, caps=caps, params=params, cancel_after=cancel_after,
                   relax_after=60 if relax else None, uri=uri)
    if info.get("status") == "completed":
        # the stall shows in the guest's first reports from the target
        deadline = time.time() + 120
        while len(reports(dst, dst_mark)) < 2 and time.time() < deadline:
            time.sleep(0.5)
    sw = switchover(c, src, dst, src_mark, dst_mark, info)
    return dst, info, sw


def settle(ctx, dst):
    """The guest now lives in dst: the old VM goes."""
    old = ctx["vm"]
    ctx["vm"] = dst
    ctx["spare"].remove(dst)
    old.stop()


def moved(c, ctx, dst, info, what):
    """A migration completed: the guest runs on in dst, and all it wrote is there."""
    if not c.check(info.get("status") == "completed", f"{what}: status {info.get('status')}"
                   f" {info.get('error-desc', '')}"):
        return False
    ctx["moves"] = ctx.get("moves", 0) + 1
    c.check(dst.status() == "running", f"{what}: destination {dst.status()}")
    since = 0
    works_on(c, dst, since, what)
    verify(c, dst, what)
    settle(ctx, dst)
    return True


def case_boot(ctx):
    """The guest boots, binds its VF with MSI and completes checked jobs."""
    c = Case()
    vm = L2VM("guest", ctx["m1"], mode="work", args=WORK_ARGS)
    ctx["vm"] = vm
    try:
        ready = vm.wait(r"gpup-l2: ready .*", timeout=BOOT_TIMEOUT)
        start = vm.wait(r"gpup-work: start .*irq=(\w+)", timeout=120)
    except L2Timeout as e:
        c.check(False, f"boot: {e}")
        return c, ""
    c.check(start[1] == "msi", f"interrupts by {start[1]}, not MSI")
    works_on(c, vm, 0, "boot", reports_needed=3)
    return c, f"{ready[0]}; {start[0]}"


def case_precopy(ctx):
    """Pre-copy while the guest works: it runs on in the target, all verified."""
    c = Case()
    s = ctx["m1"]
    dst, info, sw = hop(c, ctx, ctx["m2"], "pre", params={"downtime-limit": 50})
    trace = trace_text(ctx["vm"])
    c.check("state PRE_COPY" in trace and "state STOP_COPY" in trace, "no PRE_COPY/STOP_COPY")
    precopy = int(debugfs(s, "migration")["precopy_bytes"])
    c.check(precopy > 0, "nothing sent during pre-copy")
    moved(c, ctx, dst, info, "pre-copy")
    ctx["figures"] = sw
    return c, f"{figures(sw, info)}; {precopy} pre-copy bytes"


def across(c, ctx, dst_uuid, name, to_host, caps=(), params=None):
    """A hop to host to_host (1 or 2) over TCP on the veth: the bytes cross it."""
    hosts = ctx.get("hosts") or OtherHost()
    ctx["hosts"] = hosts
    to_ns = hosts.NS if to_host == 2 else None
    c.check(ctx["vm"].netns != to_ns, f"the guest is in host {to_host} already")
    before = hosts.rx_bytes(to_host)
    dst, info, sw = hop(c, ctx, dst_uuid, name, caps=caps, params=params, netns=to_ns,
                        uri=f"tcp:{hosts.ADDR[to_host - 1]}:4444")
    crossed = hosts.rx_bytes(to_host) - before
    if info.get("status") == "completed":
        # the VF's counters are the last stream's
        mig = debugfs(ctx["vm"].uuid, "migration")
        device = int(mig["precopy_bytes"]) + int(mig["stopcopy_bytes"])
        c.check(device > 0 and crossed >= device,
                f"{crossed} bytes crossed the veth for {device} bytes of the VF's stream")
    return dst, info, sw, crossed


def case_ping_pong(ctx):
    """To another host over TCP and back to the first VF, working all along."""
    c = Case()
    dst, info, sw, crossed = across(c, ctx, ctx["m1"], "back", 2)
    moved(c, ctx, dst, info, "to host 2")
    return c, f"{figures(sw, info)}; {crossed} bytes over the veth to host 2"


def case_multifd(ctx):
    """Back to host 1 over TCP, the VF's state on 4 multifd channels (QEMU 10)."""
    c = Case()
    dst, info, sw, crossed = across(c, ctx, ctx["m2"], "multifd", 1, caps=["multifd"],
                                    params={"multifd-channels": 4})
    trace = trace_text(dst)
    c.check("vfio_load_state_device_buffer" in trace or "multifd" in trace.lower(),
            "no device state through multifd in the target's trace")
    moved(c, ctx, dst, info, "multifd back to host 1")
    return c, f"{figures(sw, info)}; {crossed} bytes over the veth to host 1"


def case_plain_device(ctx):
    """QEMU's plain vfio-pci device: migrates where the kernel reports DMA logs.

    With CONFIG_IOMMUFD_DRIVER the VF offers an always-empty DMA dirty log
    and this suite's VMs run without enable-migration=on; without it QEMU
    must refuse to migrate such a VM for want of dirty tracking.
    """
    c = Case()
    if dma_logging():
        if not c.check("vm" in ctx, "no guest VM: run after the moves"):
            return c, ""
        with open(f"/proc/{ctx['vm'].proc.pid}/cmdline", "rb") as f:
            cmdline = f.read().decode().replace("\0", " ")
        c.check("enable-migration" not in cmdline and "sysfsdev=" in cmdline,
                f"the guest's VM: {cmdline[-200:]}")
        moves = ctx.get("moves", 0)
        c.check(moves >= 1, "no completed move before")
        return c, (f"DMA logs reported: the guest made {moves} moves in VMs without"
                   " enable-migration=on")
    vm = L2VM("plain", ctx["small"], mode="idle", override=False)
    why = ""
    try:
        vm.qmp.cmd("migrate", uri=f"unix:{WORK}/plain.sock")
        c.check(False, "QEMU started a migration without dirty tracking")
    except RuntimeError as e:
        why = str(e)
        c.check("dirty tracking" in why, f"QEMU said: {why}")
        c.check(vm.status() == "running", f"the VM is {vm.status()}")
    finally:
        vm.stop()
    return c, f"no DMA logs in this kernel; QEMU: {why:.100}"


def case_cancel_then_migrate(ctx):
    """migrate_cancel midway: the guest works on in the source, then moves."""
    c = Case()
    src = ctx["vm"]
    dst, info, _ = hop(c, ctx, ctx["m1"], "cancel",
                       params={"max-bandwidth": 4 * MIB, "downtime-limit": 1},
                       cancel_after=1.0)
    c.check(info.get("status") in ("cancelled", "failed"), f"status {info.get('status')}")
    c.check(src.status() == "running", f"source is {src.status()} after cancel")
    c.check(debugfs(ctx["m2"], "migration")["state"] == "running", "VF not back to running")
    works_on(c, src, mark(src), "after cancel")
    ctx["spare"].remove(dst)
    dst.stop()
    dst, info, sw = hop(c, ctx, ctx["m1"], "cancel2",
                        params={"max-bandwidth": 1 << 30, "downtime-limit": 300})
    moved(c, ctx, dst, info, "after cancel")
    return c, figures(sw, info)


def case_incompatible(ctx):
    """A small VF cannot take a medium one: refused in pre-copy, the guest works on."""
    c = Case()
    src = ctx["vm"]
    dst, info, _ = hop(c, ctx, ctx["small"], "incompat")
    c.check(info.get("status") == "failed", f"status {info.get('status')}")
    c.check(src.status() == "running", f"source is {src.status()}")
    why = debugfs(ctx["small"], "migration")["last_error"]
    c.check("profile" in why, f"reason: {why}")
    c.check(debugfs(ctx["small"], "vram")["pages_allocated"] == "0", "target VRAM written")
    c.check("STOP_COPY" not in trace_text(src), "the source reached STOP_COPY")
    works_on(c, src, mark(src), "after the refusal")
    verify(c, src, "after the refusal")
    ctx["spare"].remove(dst)
    dst.stop()
    return c, f"{info.get('error-desc', '')!s:.60} | target: {why}"


def case_jobs_running(ctx):
    """A stop with an engine job in flight, which ends on the target.

    gpup-work's busy run keeps long COPYs queued beyond its regions from
    before the migration until the guest works on the target, so the
    engine is mid-job whenever the source stops.  The source's ring must
    hold commands not yet retired at the stop; on the target the busy run
    must end with every copy read back right, and the usual workload go
    on clean.
    """
    c = Case()
    src = ctx["vm"]
    s = ctx["m1"]
    since = mark(src)
    src.send(f"busy {BUSY_SECONDS}")
    try:
        ack = src.wait(r"gpup-work: (busy start .*|error busy.*)", timeout=120)
    except L2Timeout as e:
        c.check(False, f"busy: {e}")
        return c, ""
    if not c.check(ack[1].startswith("busy start"), ack[0]):
        return c, ""
    began = time.time()
    # A tight downtime limit is met only while the engine happens to idle
    # (it dirties VRAM otherwise), and the stop would then find it idle:
    # with a limit all the guest dirties fits in, the switchover comes once
    # pre-copy has sent everything, whatever the engine is doing.
    dst, info, sw = hop(c, ctx, ctx["m2"], "midjob", params={"downtime-limit": 5000})
    took = time.time() - began
    # the source's engine as it stopped: commands submitted, not retired
    regs = {k: int(v, 16) for k, v in debugfs(s, "regs").items()}
    head, tail, status = regs["ring_head"], regs["ring_tail"], regs["status"]
    queued = (tail - head) % regs["ring_size"] // 32 if regs["ring_size"] else 0
    ring = f"source ring head {head:#x} tail {tail:#x} ({queued} commands) status {status:#x}"
    c.check(head != tail and status & STATUS_BUSY and not status & STATUS_HALTED,
            f"the source's engine was not mid-job at the stop: {ring}")
    _, early = line_in(src, r"gpup-work: busy done", since)
    c.check(not early, f"the busy run ended before the switchover: {early and early[0]}")
    if not moved(c, ctx, dst, info, "stop mid-job"):
        return c, f"{figures(sw, info)}; {ring}"
    # the busy run, the job cut short at the stop included, ends on the target
    dst.send("busy stop")
    at, done = line_in(dst, BUSY_DONE, 0, timeout=300)
    if c.check(done, "no 'busy done' on the target within 300 s of 'busy stop'"):
        c.check(done[7] == "ok", f"on the target: {done[0]}")
        works_on(c, dst, at + 1, "after the busy run")
        verify(c, dst, "after the busy run")
    busy = (f"busy done copies={done[1]} t={done[3]} s drained={done[4]} rate={done[5]} MiB/s"
            f" depth={done[6]} {done[7]}" if done else "no busy done")
    return c, f"{figures(sw, info)}; {ring}; migration {took:.0f} s after busy start; {busy}"


def case_stop(ctx):
    """The workload's summary: no mismatch, no missed interrupt, no stuck engine."""
    c = Case()
    vm = ctx["vm"]
    vm.send("stop")
    try:
        m = vm.wait(r"gpup-work: summary (.*)", timeout=120)
        vm.wait(r"gpup-l2: exit (\d+)", timeout=60)
    except L2Timeout as e:
        c.check(False, f"summary: {e}")
        return c, ""
    c.check("result=ok" in m[1] and "mismatches=0" in m[1], m[1])
    return c, m[1]


CASES = [
    ("guest_boots_and_works", case_boot),
    ("precopy_with_guest_workload", case_precopy),
    ("ping_pong_to_another_host_tcp", case_ping_pong),
    ("multifd_back_over_tcp", case_multifd),
    ("plain_vfio_pci_device", case_plain_device),
    ("cancel_then_migrate", case_cancel_then_migrate),
    ("incompatible_target_refused_in_precopy", case_incompatible),
    ("migrate_while_engine_jobs_run", case_jobs_running),
    ("workload_summary_clean", case_stop),
]


def demo():
    """One live migration of a working guest, told for a person."""
    os.makedirs(WORK, exist_ok=True)
    ctx = {"m1": vf_create("medium"), "m2": vf_create("medium")}
    ok = True
    try:
        print("A VM with a GPU-P VF (medium, 256 MiB VRAM), its guest OS running gpup-work")
        c, line = case_boot(ctx)
        vm = ctx["vm"]
        for text in vm.console.lines:
            if text.startswith(("gpup-l2: vf", "gpup-l2: ready", "gpup-work: start")):
                print(f"  guest: {text}")
        for r in reports(vm)[-2:]:
            print(f"  guest: {r['line']}")
        if c.failures:
            print(f"  FAILED: {c.failures}")
            return 1
        print("live migration to a VM on another VF: return-path + switchover-ack,"
              " downtime limit 50 ms")
        c2, line = case_precopy(ctx)
        sw = ctx.get("figures", {})
        print(f"  migration: {line}")
        for r in reports(ctx["vm"])[:3]:
            print(f"  guest, now in the target VM: {r['line']}")
        print(f"  the guest saw its GPU work stall {sw.get('stall')} ms at switchover"
              f" (QEMU's downtime {sw.get('downtime')} ms), and worked at"
              f" {sw.get('brownout') or 0:.2f}x its usual rate during pre-copy")
        c3, line = case_stop(ctx)
        print(f"  after the move: verify of everything it wrote, then stop: {line}")
        for problem in c.failures + c2.failures + c3.failures:
            print(f"  FAILED: {problem}")
        ok = not (c.failures or c2.failures or c3.failures)
    finally:
        cleanup(ctx)
    return 0 if ok else 1


def bench():
    """The guest's stall and brownout across one migration, as ratios."""
    os.makedirs(WORK, exist_ok=True)
    ctx = {"m1": vf_create("medium"), "m2": vf_create("medium")}
    try:
        c, _ = case_boot(ctx)
        c2, _ = case_precopy(ctx)
        sw = ctx.get("figures")
        if c.failures or c2.failures or not sw or not sw["downtime"]:
            print(f"bench: guest migration failed: {c.failures + c2.failures}")
            return 1
        print(f"bench: guest-visible stall {sw['stall']} ms, QEMU downtime {sw['downtime']} ms:"
              f" stall/downtime {sw['stall'] / sw['downtime']:.2f}; guest throughput in"
              f" pre-copy / before {sw['brownout']:.2f} (target >= 0.90)")
    finally:
        cleanup(ctx)
    return 0


def cleanup(ctx):
    for vm in [ctx.get("vm")] + ctx.get("spare", []):
        if vm:
            vm.stop()
    if ctx.get("hosts"):
        ctx["hosts"].down()
    for key in ("m1", "m2", "small"):
        if key in ctx:
            vf_remove(ctx[key])


def main():
    why = available()
    if sys.argv[1:] == ["--demo"]:
        return demo() if not why else print(why) or 1
    if sys.argv[1:] == ["--bench"]:
        return bench() if not why else print(why) or 1
    os.makedirs(WORK, exist_ok=True)
    print(f"TAP version 13\n1..{len([c for c in CASES if not sys.argv[1:] or c[0] in sys.argv[1:]])}",
          flush=True)
    if why:
        print(f"Bail out! {why}")
        return 1
    only = sys.argv[1:]
    cases = [c for c in CASES if not only or c[0] in only]
    ctx = {"m1": vf_create("medium"), "m2": vf_create("medium"), "small": vf_create("small")}
    def dump(name):
        ctx["dead"] = name in ("guest_boots_and_works",)
        for vm in [ctx.get("vm")] + ctx.get("spare", []):
            if vm:
                vm.dump()
    failed = 0
    for i, (name, fn) in enumerate(cases, 1):
        dead = "vm" in ctx and ctx.get("dead")
        failed += not tap_case(i, name, fn, ctx, dump,
                               "the guest did not survive an earlier case" if dead else None)
    fig = ctx.get("figures")
    if fig:
        print(f"# guest-visible stall {fig['stall']} ms at a QEMU downtime of"
              f" {fig['downtime']} ms; pre-copy throughput {fig['brownout']:.2f} of before")
    cleanup(ctx)
    print(f"# guest migration: {len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
