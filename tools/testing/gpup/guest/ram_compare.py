#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Is a migrated L2 guest's RAM the source's?  Compare them page by page.

A working L2 guest (gpup-work on a medium VF) moves between two VFs, HOPS
times (default 6).  Each target starts paused (-S): once QEMU reports the
migration completed, the stopped source's RAM and the target's are saved
with HMP pmemsave and compared a page at a time before the target runs.
Any page that differs was lost in the move.  MEM is QEMU's -m (default:
L2VM's own size, 128 MiB + 8 KiB); MEM=128M shows QEMU 10.0's TCG losing
stores to a RAM block on its 256 KiB grid (see l2vm.ram_size()).

Run in a test guest: gpup-vm --kernel debug --mem 3072 -- bash -c
'. tools/testing/gpup/config.sh; modprobe gpup_sim; MEM=128M
tools/testing/gpup/guest/ram_compare.py'.  Exits 1 if a page differed.
"""
import os
import subprocess
import sys
import time

import l2vm
from l2vm import L2VM
from qemu_migrate import WORK, migrate, vf_create, vf_remove

ARGS = "--mib 32 --region-kib 256 --batch 4 --seed 7"


def paused_targets():
    """Targets start with -S, so that their RAM can be read before they run."""
    popen = subprocess.Popen

    def start(cmd, *args, **kwargs):
        return popen(cmd + ["-S"] if "-incoming" in cmd else cmd, *args, **kwargs)
    l2vm.subprocess.Popen = start


def differing_pages(src, dst):
    size = int(src.qmp.cmd("query-memory-size-summary")["base-memory"])
    images = []
    for vm in (src, dst):
        path = f"{WORK}/{vm.name}.mem"
        out = vm.qmp.cmd("human-monitor-command",
                         **{"command-line": f'pmemsave 0 {size} "{path}"'})
        if out:
            raise RuntimeError(f"pmemsave on {vm.name}: {out}")
        with open(path, "rb") as f:
            images.append(f.read())
        os.unlink(path)
        if len(images[-1]) != size:
            raise RuntimeError(f"pmemsave on {vm.name}: {len(images[-1])} of {size} bytes")
    a, b = images
    return [off for off in range(0, size, 4096) if a[off:off + 4096] != b[off:off + 4096]], size


def main():
    mem = os.environ.get("MEM", 128)
    hops = int(os.environ.get("HOPS", "6"))
    os.makedirs(WORK, exist_ok=True)
    paused_targets()
    vfs = [vf_create("medium"), vf_create("medium")]
    vms = []
    try:
        return moves(vfs, mem, hops, vms)
    finally:
        for vm in vms:
            vm.stop()
        for uuid in vfs:
            vf_remove(uuid)


def moves(vfs, mem, hops, vms):
    """HOPS moves; vms holds the VMs to stop, whatever happens."""
    src = L2VM("r0", vfs[0], mode="work", args=ARGS, mem=mem)
    vms.append(src)
    src.wait(r"gpup-work: start", timeout=900)
    time.sleep(20)
    counts = []
    for hop in range(1, hops + 1):
        dst = L2VM(f"r{hop}", vfs[hop % 2], incoming=True, mode="work", mem=mem)
        vms.append(dst)
        info = migrate(src, dst, params={"downtime-limit": 300, "max-bandwidth": 1 << 30})
        if info.get("status") != "completed":
            print(f"hop {hop}: {info.get('status')} {info.get('error-desc', '')}")
            return 2
        diff, size = differing_pages(src, dst)
        print(f"hop {hop}: {info.get('total-time')} ms, {info['ram']['dirty-sync-count']} syncs:"
              f" {len(diff)} of {size // 4096} pages differ"
              f" {' '.join(hex(off) for off in diff[:8])}", flush=True)
        counts.append(len(diff))
        dst.qmp.cmd("cont")
        src.stop()
        vms.remove(src)
        src = dst
        time.sleep(15)
    print(f"-m {l2vm.ram_size(mem)}: pages that differ, move by move: {counts}")
    return 1 if any(counts) else 0


if __name__ == "__main__":
    sys.exit(main())
