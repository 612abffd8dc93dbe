#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""An L2 VM with a real guest OS and a gpup VF: boot, console, migration.

Runs inside the test guest, gpup_sim loaded, with the L2 kernel and
initramfs of gpup-l2-build.  One VM, booted once, goes through the cases
in order: it boots to "gpup-l2: ready" with the VF assigned and sees it
as PCI device 1234:6770 (bound to gpup_vf when the kernel has the
driver); its shell answers on the console; gpup-work runs on the VF
(when both are there); it live-migrates to a VM started with -incoming
defer, where gpup-work verifies everything it wrote (or the shell
answers); its init ends, says so, and the VM powers off.  Prints TAP.
"""

import os
import re
import subprocess
import sys
import time

import qemu_migrate
from l2vm import EXIT, L2VM, L2Timeout, available
from qemu_migrate import migrate, vf_create, vf_remove

VF_LINE = r"gpup-l2: vf (\S+) vendor 0x1234 device 0x6770 class (\S+) driver (\S+)"
CASES = ["boots_to_ready_with_vf", "sees_vf_pci_ids", "vf_bound_to_gpup_vf",
         "console_round_trip", "workload_runs", "live_migration_guest_goes_on",
         "init_exit_powers_off"]


class Run:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.vms = []

    def result(self, name, ok, note=""):
        self.n += 1
        if ok is None:
            print(f"ok {self.n} - {name} # SKIP {note}", flush=True)
            return
        if note:
            print(f"# {name}: {note}")
        if not ok:
            self.failed += 1
            for vm in self.vms:
                vm.dump()
        print(f"{'ok' if ok else 'not ok'} {self.n} - {name}", flush=True)

    def abort(self, why):
        """The cases not reached fail, after the consoles are shown."""
        print(f"#   FAILED: {why}")
        for vm in self.vms:
            vm.dump()
        while self.n < len(CASES):
            self.n += 1
            self.failed += 1
            print(f"not ok {self.n} - {CASES[self.n - 1]}", flush=True)


def cases(run, uuids):
    start = time.time()
    src = L2VM("l2-src", uuids[0], mode="shell")
    run.vms = [src]
    ready = src.wait(r"gpup-l2: ready \(.*uptime ([0-9.]+) s, clocksource (\w+)", timeout=600)
    run.result(CASES[0], True, f"ready after {time.time() - start:.1f} s wall,"
               f" guest uptime {ready.group(1)} s, clocksource {ready.group(2)}")

    seen = "\n".join(src.console.lines)
    vf = re.search(VF_LINE, seen)
    run.result(CASES[1], vf is not None,
               f"{vf.group(0)}" if vf else "no 1234:6770 device in the guest")
    bound = vf is not None and vf.group(3) != "none"
    if bound:
        run.result(CASES[2], "/dev/gpup_vf0" in seen, f"bound to {vf.group(3)}")
    else:
        run.result(CASES[2], None, "no GPUP_VF driver in the L2 kernel")

    src.send("echo answer-$((6 * 7)); ls /bin/gpup-work")
    src.wait(r"^answer-42", timeout=120)
    work = src.wait(r"^(/bin/gpup-work|ls: .*gpup-work)", timeout=60).group(1) == "/bin/gpup-work"
    run.result(CASES[3], True)

    # the workload, when there is one, from the shell: its exit ends init
    if work and bound:
        src.send("exec gpup-work")
        src.wait(r"gpup-work: start ", timeout=120)
        report = src.wait(r"gpup-work: t=\S+ jobs=(\d+)", timeout=120)
        run.result(CASES[4], True, report.group(0))
    else:
        run.result(CASES[4], None, "no gpup-work in the initramfs" if not work
                   else "no GPUP_VF driver in the L2 kernel")
        work = False

    dst = L2VM("l2-dst", uuids[1], mode="shell", incoming=True)
    run.vms = [src, dst]
    os.makedirs(qemu_migrate.WORK, exist_ok=True)
    info = migrate(src, dst)
    ok = info.get("status") == "completed"
    if ok and work:
        dst.send("verify")
        dst.wait(r"gpup-work: verify ok", timeout=120)
        dst.wait(r"gpup-work: t=", timeout=60)
    elif ok:
        dst.send("echo moved-$((40 + 2)); cat /sys/bus/pci/devices/*/device")
        dst.wait(r"^moved-42", timeout=120)
        dst.wait(r"^0x6770", timeout=60)
    run.result(CASES[5], ok and dst.status() == "running",
               f"{info.get('status')}, {qemu_migrate.figures(info)}")
    src.stop()
    run.vms = [dst]

    if work:
        dst.send("stop")
        summary = dst.wait(r"gpup-work: summary .*result=(\w+)", timeout=120)
        print(f"# {summary.group(0)}")
    else:
        dst.send("exit")
    rc = dst.wait(EXIT, timeout=120).group(1)
    try:
        dst.proc.wait(timeout=120)
        powered_off = True
    except subprocess.TimeoutExpired:
        powered_off = False
    run.result(CASES[6], rc == "0" and powered_off,
               f"init exit {rc}, QEMU {'exited' if powered_off else 'still running'}")
    dst.stop()
    run.vms = []


def main():
    why = available()
    print(f"TAP version 13\n1..{len(CASES)}", flush=True)
    if why:
        for i, name in enumerate(CASES, 1):
            print(f"ok {i} - {name} # SKIP {why}")
        return 0
    run = Run()
    uuids = (vf_create("medium"), vf_create("medium"))
    try:
        cases(run, uuids)
    except (L2Timeout, RuntimeError, OSError) as e:
        run.abort(f"{type(e).__name__}: {e}")
    finally:
        for vm in run.vms:
            vm.stop()
        for uuid in uuids:
            vf_remove(uuid)
    print(f"# l2: {len(CASES) - run.failed} passed, {run.failed} failed")
    return 1 if run.failed else 0


if __name__ == "__main__":
    sys.exit(main())
