#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Damaged and hostile migration streams fed to a destination QEMU.

Runs inside the test guest, gpup_sim loaded.  A VM holding a medium VF (no
OS, as in qemu_migrate.py) migrates to a good destination through a relay
that records what the source sends; so does a VM holding a small VF.  The
recorded medium stream is then taken apart along QEMU's framing (sections,
the VFIO device's tags and data chunks) and along gpup's (records and
their CRC), damaged or made hostile, and written to the migration socket
of a fresh destination QEMU, whose VF is the same target every time.

Each case checks that the incoming migration fails, that QEMU's error
names the VF's device, which layer refused the stream (the kernel, whose
write() on the data fd failed and whose last error says why, or QEMU's
own framing checks, which the kernel never saw fail), and that after
the destination QEMU exits the VF is RUNNING, runs an engine job through
VFIO, and takes the good stream bit-exact.

Prints TAP.  With --control [CASE...], the cases are fed the good stream
instead of their damaged ones, and each must then fail: a check that the
cases can fail.
"""

import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

from qemu_migrate import (VM, WORK, MIB, debugfs, load_content, trace_text, vf_create,
                          vf_remove, vram_fill)

BIN = os.environ.get("GPUP_BIN") or os.path.join(
    os.environ.get("GPUP_CACHE", os.path.expanduser("~/.cache/gpup")), "bin")
CAPS = ["return-path", "switchover-ack"]

# QEMU's stream: migration/savevm.h, migration/ram.c, hw/vfio/migration.c
QEVM = b"QEVM\x00\x00\x00\x03"
SEC_EOF, SEC_START, SEC_PART, SEC_END, SEC_FULL = 0, 1, 2, 3, 4
SEC_COMMAND, SEC_FOOTER = 8, 0x7e
RAM_ZERO, RAM_MEM_SIZE, RAM_PAGE, RAM_EOS, RAM_CONTINUE = 0x2, 0x4, 0x8, 0x10, 0x20
RAM_MULTIFD_FLUSH = 0x200
RAM_FLAGS = RAM_ZERO | RAM_MEM_SIZE | RAM_PAGE | RAM_EOS | RAM_CONTINUE | RAM_MULTIFD_FLUSH
TARGET_PAGE = 4096
VFIO_END_OF_STATE = 0xffffffffef100001
VFIO_SETUP_STATE = 0xffffffffef100003
VFIO_DATA_STATE = 0xffffffffef100004
VFIO_INIT_DATA_SENT = 0xffffffffef100005

# gpup's stream: uapi/linux/gpup.h
REC_STREAM, REC_IMMUTABLE, REC_VRAM, REC_ROUND, REC_MUTABLE, REC_END = 1, 2, 3, 4, 5, 6
REC_HDR = struct.Struct("<HHI")

# Kernel log lines that report a bug, never a refusal
SPLAT = re.compile(r"BUG:|WARNING:|Oops|KASAN:|UBSAN:|Call Trace:|refcount_t|list_(add|del)")


def crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82f63b78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = crc32c_table()


def crc32c(data):
    c = 0xffffffff
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >> 8)
    return c ^ 0xffffffff


class StreamError(Exception):
    pass


class Reader:
    def __init__(self, data, pos):
        self.data, self.pos = data, pos

    def take(self, n):
        if self.pos + n > len(self.data):
            raise StreamError(f"stream ends at {len(self.data)}, inside a field at {self.pos}")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def u8(self):
        return self.take(1)[0]

    def be16(self):
        return struct.unpack(">H", self.take(2))[0]

    def be32(self):
        return struct.unpack(">I", self.take(4))[0]

    def be64(self):
        return struct.unpack(">Q", self.take(8))[0]


class QemuStream:
    """A QEMU migration stream, walked from its first iterable section.

    The iterable sections ("ram" and the VFIO device's) and commands are
    walked exactly up to the first non-iterable (FULL) section, whose
    vmstate would need each device's layout.  What the VFIO device's
    sections carry: its tags and the payloads of its DEV_DATA_STATE
    chunks, which together are the gpup stream its data fd gave.
    """

    def __init__(self, data):
        self.data = bytes(data)
        if not self.data.startswith(QEVM):
            raise StreamError("no QEMU stream header")
        self.names = {}		# section id -> idstr
        self.vfio_id = None
        self.tags = []		# (offset, tag) of the VFIO sections
        self.chunks = []	# (offset, length) of DEV_DATA_STATE payloads
        self.sections = []	# (type, idstr) in order
        r = Reader(self.data, self._first_ram_section())
        while True:
            kind = r.u8()
            if kind == SEC_COMMAND:
                r.be16()
                r.take(r.be16())
                continue
            if kind in (SEC_FULL, SEC_EOF):
                self.iterable_end = r.pos - 1
                break
            if kind not in (SEC_START, SEC_PART, SEC_END):
                raise StreamError(f"section type {kind:#x} at {r.pos - 1}")
            sid = r.be32()
            if kind == SEC_START:
                self.names[sid] = r.take(r.u8()).decode()
                r.take(8)	# instance and version
            name = self.names.get(sid)
            self.sections.append((kind, name))
            if name == "ram":
                self._ram(r)
            elif name and name.endswith("/vfio"):
                self.vfio_id, self.idstr = sid, name
                self._vfio(r)
            else:
                raise StreamError(f"an iterable section {name!r} this walker does not know")
            if r.u8() != SEC_FOOTER or r.be32() != sid:
                raise StreamError(f"section {name} has no footer at {r.pos - 5}")
        if not self.chunks:
            raise StreamError("no VFIO device data in the stream")

    def _first_ram_section(self):
        # START, section id, "ram", instance 0, version 4
        m = re.search(rb"\x01....\x03ram\x00\x00\x00\x00\x00\x00\x00\x04", self.data, re.S)
        if not m:
            raise StreamError("no start of the ram section")
        return m.start()

    @staticmethod
    def _ram(r):
        while True:
            v = r.be64()
            flags, addr = v & (TARGET_PAGE - 1), v & ~(TARGET_PAGE - 1)
            if flags & ~RAM_FLAGS:
                raise StreamError(f"RAM flags {flags:#x} at {r.pos - 8}")
            if flags & RAM_MEM_SIZE:
                left = addr
                while left > 0:
                    r.take(r.u8())
                    left -= r.be64()
                if left:
                    raise StreamError("RAM block lengths do not add up")
            if flags & (RAM_ZERO | RAM_PAGE):
                if not flags & RAM_CONTINUE:
                    r.take(r.u8())
                r.take(1 if flags & RAM_ZERO else TARGET_PAGE)
            if flags & RAM_EOS:
                return

    def _vfio(self, r):
        while True:
            at, tag = r.pos, r.be64()
            self.tags.append((at, tag))
            if tag in (VFIO_END_OF_STATE, VFIO_INIT_DATA_SENT):
                return
            if tag == VFIO_DATA_STATE:
                n = r.be64()
                self.chunks.append((r.pos, n))
                r.take(n)
            elif tag != VFIO_SETUP_STATE:
                raise StreamError(f"VFIO tag {tag:#x} at {at}")

    def gpup(self):
        return b"".join(self.data[o:o + n] for o, n in self.chunks)

    def at(self, goff):
        """Where byte goff of the gpup stream is in the QEMU stream."""
        for o, n in self.chunks:
            if goff < n:
                return o + goff
            goff -= n
        raise StreamError("past the gpup stream")

    def patched(self, goff, new):
        """The QEMU stream with gpup bytes from goff on replaced by new."""
        out = bytearray(self.data)
        for i, b in enumerate(new):
            out[self.at(goff + i)] = b
        return bytes(out)

    def carrying(self, gpup):
        """The QEMU stream with another gpup stream in the VFIO device's data:
        all of it in the first chunk, the other chunks left out."""
        out, prev = bytearray(), 0
        for i, (o, n) in enumerate(self.chunks):
            out += self.data[prev:o - 16]
            if i == 0:
                out += struct.pack(">QQ", VFIO_DATA_STATE, len(gpup)) + gpup
            prev = o + n
        return bytes(out + self.data[prev:])


class Record:
    def __init__(self, g, off):
        self.off = off
        self.type, self.flags, self.length = REC_HDR.unpack_from(g, off)
        self.end = off + REC_HDR.size + self.length	# where its CRC is
        self.crc = struct.unpack_from("<I", g, self.end)[0]
        self.payload = off + REC_HDR.size

    def sealed(self, g):
        return self.crc == crc32c(g[self.off:self.end])


def records(g):
    out, off = [], 0
    while off < len(g):
        if off + REC_HDR.size + 4 > len(g):
            raise StreamError(f"gpup stream ends inside a record at {off}")
        rec = Record(g, off)
        out.append(rec)
        off = rec.end + 4
    if off != len(g):
        raise StreamError("the last gpup record runs past the stream")
    return out


# Moving streams through relays and sockets


def pump(src, dst, record=None):
    """Copy src to dst until src ends, keeping the bytes in record."""
    while True:
        try:
            buf = src.recv(1 << 16)
        except OSError:
            buf = b""
        if not buf:
            break
        if record is not None:
            record.append(buf)
        try:
            dst.sendall(buf)
        except OSError:
            break
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def connect(path):
    for _ in range(100):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {path}")


def set_caps(*vms):
    caps = [{"capability": c, "state": True} for c in CAPS]
    for vm in vms:
        vm.qmp.cmd("migrate-set-capabilities", capabilities=caps)


def capture(src, dst):
    """Migrate src to dst through a relay; returns (query-migrate, the stream sent)."""
    set_caps(src, dst)
    # what is captured is the stream, not its downtime: a 2 s limit lets a
    # loaded machine's low bandwidth estimate still switch over with the
    # VF's mutable state (512 KiB of engine contexts for a medium VF) to send
    src.qmp.cmd("migrate-set-parameters", **{"downtime-limit": 2000})
    inbound, relay = f"{WORK}/{dst.name}.in", f"{WORK}/{dst.name}.relay"
    for path in (inbound, relay):
        if os.path.exists(path):
            os.unlink(path)
    dst.qmp.cmd("migrate-incoming", uri=f"unix:{inbound}")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(relay)
    srv.listen(1)
    sent = []

    def run():
        a, _ = srv.accept()
        b = connect(inbound)
        back = threading.Thread(target=pump, args=(b, a), daemon=True)
        back.start()
        pump(a, b, sent)
        back.join(30)
        a.close()
        b.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    src.qmp.cmd("migrate", uri=f"unix:{relay}")
    info = wait_migration(src)
    thread.join(60)
    srv.close()
    return info, b"".join(sent)


def wait_migration(vm, timeout=300):
    deadline = time.time() + timeout
    info = {}
    while time.time() < deadline:
        info = vm.qmp.cmd("query-migrate")
        if info.get("status") in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.05)
    return info


def feed(dst, data, exit_on_error=False):
    """Write data to dst's migration socket as a source would.

    Returns query-migrate's last reply, or {"exit": status} once QEMU
    has exited (with exit_on_error, QEMU's own choice on failure).
    """
    set_caps(dst)
    inbound = f"{WORK}/{dst.name}.in"
    args = {"uri": f"unix:{inbound}"}
    if not exit_on_error:
        args["exit-on-error"] = False
    dst.qmp.cmd("migrate-incoming", **args)
    conn = connect(inbound)
    conn.settimeout(120)

    def run():
        try:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
            while conn.recv(4096):	# the return path, until QEMU closes it
                pass
        except OSError:
            pass	# QEMU stopped reading: it refused the stream
        conn.close()

    writer = threading.Thread(target=run, daemon=True)
    writer.start()
    deadline, info = time.time() + 300, {}
    while time.time() < deadline:
        if dst.proc.poll() is not None:
            info = {"exit": dst.proc.returncode}
            break
        try:
            info = dst.qmp.cmd("query-migrate")
        except (OSError, RuntimeError, ValueError):
            time.sleep(0.05)	# QEMU is on its way out
            continue
        # a QEMU that exits on error is left to do so
        if info.get("status") == "completed" or \
           (info.get("status") == "failed" and not exit_on_error):
            break
        time.sleep(0.05)
    writer.join(30)
    return info


# The target VF and the kernel's side


def kernel_log():
    return subprocess.run(["dmesg"], capture_output=True, text=True).stdout.splitlines()


def shown(uuid):
    """gpupctl's view of a VF: its last error as management sees it."""
    out = subprocess.run([f"{BIN}/gpupctl", "--json", "show", uuid], capture_output=True,
                         text=True)
    return json.loads(out.stdout) if out.returncode == 0 else {"gpupctl": out.stderr.strip()}


def pci_address(vm):
    """The PCI address QEMU gave the VF: its section is "ADDRESS/vfio"."""
    for bus in vm.qmp.cmd("query-pci"):
        for dev in bus["devices"]:
            if dev.get("qdev_id") == "gpu":
                return f"0000:{bus['bus']:02x}:{dev['slot']:02x}.{dev['function']:x}"
    return None


class Case:
    def __init__(self, name):
        self.name, self.failures, self.notes = name, [], []

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
        return ok


def load_results(vm):
    """Each write() of device data QEMU made on the destination: its return value."""
    return [int(m[1]) for m in re.finditer(r"vfio_load_state_device_data\b.* ret (-?\d+)",
                                           trace_text(vm))]


def refused(ctx, c, data, layer, reason, qemu_says=None, field=None, exit_on_error=False):
    """Feed data to a new destination on the target VF and check how it failed.

    QEMU's log must name the VF's section ("error while loading state
    section id N(ADDRESS/vfio)", ADDRESS from query-pci) and match
    qemu_says.  layer "kernel": a write() of device data failed with
    EINVAL, and the kernel logged its refusal, reason, while QEMU still
    ran.  layer "qemu": every write() of device data succeeded, and only
    once QEMU had closed the VF did the kernel log that the stream was
    unfinished.  Either way the kernel logs one refusal, the VF's last
    error (debugfs and gpupctl) is that reason, and nothing else.
    """
    t = ctx["target"]
    if ctx.get("control"):
        data = ctx["good"]
    klog = len(kernel_log())
    dst = VM(c.name, t, incoming=True)
    ctx["vms"] = [dst]
    section = f"{pci_address(dst)}/vfio"
    info = feed(dst, data, exit_on_error)
    during = kernel_log()[klog:]
    held = debugfs(t, "migration")["state"]
    dst.stop()
    ctx["vms"] = []
    writes = load_results(dst)
    with open(f"{WORK}/{c.name}.log") as f:
        log = f.read()
    whole = kernel_log()[klog:]
    why = debugfs(t, "migration")["last_error"]
    mgmt = shown(t)

    if exit_on_error:
        c.check(info.get("exit") == 1, f"QEMU exit status {info.get('exit')}, not 1")
    else:
        c.check(info.get("status") == "failed", f"incoming migration {info.get('status')}")
        c.check(info.get("error-desc") == "load of migration failed: Invalid argument",
                f"error-desc {info.get('error-desc')!r}")
        c.check(held == "resuming", f"the VF was {held} while the failed QEMU held it")
    said = [line for line in log.splitlines() if "warning:" not in line]
    c.check(re.search(rf"error while loading state section id \d+\({re.escape(section)}\)", log),
            f"QEMU's log does not name {section}: {said}")
    if qemu_says:
        c.check(re.search(qemu_says, log), f"QEMU's log lacks /{qemu_says}/: {said}")

    def refusals(lines):
        return [line.split("migration refused: ", 1)[1] for line in lines
                if "migration refused: " in line and t in line]
    if layer == "kernel":
        c.check(-22 in writes, f"no write() of device data failed with EINVAL: {writes}")
        c.check(refusals(during) == [why], f"the kernel's refusals while QEMU ran:"
                f" {refusals(during)}, last error {why!r}")
    else:
        c.check(bool(writes) and all(w == 0 for w in writes[:-1]) and writes[-1] in (0, -5),
                f"write()s of device data: {writes}")
        c.check(exit_on_error or not refusals(during),
                f"the kernel refused while QEMU ran: {refusals(during)}")
    c.check(refusals(whole) == [why], f"the kernel's refusals {refusals(whole)},"
            f" last error {why!r}")
    c.check(re.search(reason, why), f"VF's last error {why!r}, want /{reason}/")
    c.check(mgmt.get("error") == why, f"gpupctl show says {mgmt.get('error')!r}")
    if field:
        c.check(mgmt.get("error_field") == field,
                f"gpupctl show: failing field {mgmt.get('error_field')!r}")
    bad = [line for line in whole if SPLAT.search(line)]
    c.check(not bad, f"the kernel reported: {bad[:3]}")
    c.notes.append("QEMU: " + " | ".join(line.replace("qemu-system-x86_64: ", "")
                                          for line in said))
    c.notes.append(f"{len(writes)} device data write()s, last returned"
                   f" {writes[-1] if writes else '-'}; VF: {why}")
    works_after(ctx, c)


def works_after(ctx, c):
    """The VF after the failed destination: RUNNING, an engine job, the good stream."""
    t = ctx["target"]
    c.check(debugfs(t, "migration")["state"] == "running",
            f"VF {debugfs(t, 'migration')['state']} after QEMU exited")
    job = subprocess.run([f"{BIN}/gpup_job", t, "4"], capture_output=True, text=True)
    c.check(job.returncode == 0 and "copy verified" in job.stdout,
            f"engine job: {job.returncode} {job.stdout[-200:]} {job.stderr[-200:]}")
    before = debugfs(t, "vram")["checksum"]
    c.check(before != ctx["checksum"], "the source's VRAM is on the VF before the good stream")
    dst = VM(f"{c.name}-good", t, incoming=True)
    ctx["vms"] = [dst]
    info = feed(dst, ctx["good"])
    c.check(info.get("status") == "completed",
            f"the good stream afterwards: {info.get('status')} {info.get('error-desc', '')}")
    c.check(dst.status() == "running", f"destination {dst.status()} after the good stream")
    got = debugfs(t, "vram")["checksum"]
    c.check(got == ctx["checksum"], f"VRAM checksum {got}, the source's {ctx['checksum']}")
    dst.stop()
    ctx["vms"] = []


# The cases


def case_capture(ctx, c):
    """The streams: a medium VF's and a small VF's, each to a good destination."""
    s, d = ctx["medium"][:2]
    src, dst = VM("cap-src", s), VM("cap-dst", d, incoming=True)
    ctx["vms"] = [src, dst]
    load_content(s, 11)
    vram_fill(s, 200 * MIB, 4096, 0x5a5a5a5a)	# a page alone: a VRAM record of one page
    info, stream = capture(src, dst)
    c.check(info.get("status") == "completed", f"capture: {info.get('status')}")
    ctx["checksum"] = debugfs(d, "vram")["checksum"]
    c.check(ctx["checksum"] == debugfs(s, "vram")["checksum"], "capture not bit-exact")
    src.stop()
    dst.stop()
    s2, d2 = ctx["small"]
    src, dst = VM("cap-small-src", s2), VM("cap-small-dst", d2, incoming=True)
    ctx["vms"] = [src, dst]
    load_content(s2, 12)
    info2, small = capture(src, dst)
    c.check(info2.get("status") == "completed", f"small capture: {info2.get('status')}")
    src.stop()
    dst.stop()
    ctx["vms"] = []

    ctx["good"], ctx["qs"] = stream, QemuStream(stream)
    ctx["small_gpup"] = QemuStream(small).gpup()
    qs = ctx["qs"]
    g = qs.gpup()
    recs = records(g)
    ctx["records"] = recs
    types = [r.type for r in recs]
    c.check(types[:2] == [REC_STREAM, REC_IMMUTABLE] and types[-2:] == [REC_MUTABLE, REC_END],
            f"gpup records {types[:3]}...{types[-3:]}")
    small_recs = [r for r in recs if r.type != REC_VRAM or r.length < 64 << 10]
    c.check(all(r.sealed(g) for r in small_recs), "a record's CRC does not match")
    parts = [k for k, name in qs.sections if name == qs.idstr]
    c.notes.append(f"stream {len(stream)} bytes, device {qs.idstr}: sections"
                   f" {''.join('SPEF'[k - 1] for k in parts)}, {len(qs.chunks)} chunks,"
                   f" {len(g)} gpup bytes in {len(recs)} records;"
                   f" small VF: {len(ctx['small_gpup'])} gpup bytes")


def case_flipped_payload(ctx, c):
    """A byte of VRAM data flipped, QEMU's framing intact: the kernel's CRC check refuses."""
    qs, g = ctx["qs"], ctx["qs"].gpup()
    vram = [r for r in ctx["records"] if r.type == REC_VRAM]
    rec = max(vram, key=lambda r: r.length)
    goff = rec.payload + 16 + (rec.length - 16) // 2
    data = qs.patched(goff, bytes([g[goff] ^ 0xff]))
    c.notes.append(f"flipped gpup byte {goff} (QEMU stream byte {qs.at(goff)})")
    refused(ctx, c, data, "kernel", reason=r"^bad stream: record CRC mismatch$")


def case_resealed_offset(ctx, c):
    """A VRAM record moved past the target's VRAM, its CRC made valid again: refused by range."""
    qs, g = ctx["qs"], ctx["qs"].gpup()
    rec = min((r for r in ctx["records"] if r.type == REC_VRAM), key=lambda r: r.length)
    body = bytearray(g[rec.off:rec.end])
    vram_size = 256 * MIB	# the medium profile
    struct.pack_into("<Q", body, REC_HDR.size, vram_size)
    new = bytes(body) + struct.pack("<I", crc32c(body))
    c.notes.append(f"VRAM record at gpup byte {rec.off} ({rec.length} bytes) to offset"
                   f" {vram_size:#x}, resealed")
    refused(ctx, c, qs.patched(rec.off, new), "kernel",
            reason=r"^bad stream: VRAM record outside the target's VRAM$")


def case_other_profile(ctx, c):
    """The small VF's device data in the medium VM's stream: refused as incompatible."""
    data = ctx["qs"].carrying(ctx["small_gpup"])
    refused(ctx, c, data, "kernel", field="profile",
            reason=r"^incompatible device: profile: source 0x1, target 0x2$")


def case_truncated(ctx, c):
    """The stream cut inside the VFIO device's data: QEMU's reader hits the end, and exits."""
    qs = ctx["qs"]
    o, n = max(qs.chunks, key=lambda ch: ch[1])
    cut = o + n // 2
    c.notes.append(f"cut at QEMU stream byte {cut} of {len(qs.data)}, inside a {n}-byte chunk")
    refused(ctx, c, qs.data[:cut], "qemu", r"^incomplete stream: no end record$",
            exit_on_error=True, qemu_says=r"load of migration failed: Input/output error")


def case_damaged_tag(ctx, c):
    """A byte of a VFIO tag flipped: QEMU's VFIO code refuses the unknown tag, naming the VF."""
    qs = ctx["qs"]
    first = qs.chunks[0][0] + qs.chunks[0][1]	# the tag that follows the first chunk
    at = next(o for o, tag in qs.tags if o == first)
    data = bytearray(qs.data)
    data[at + 7] ^= 0xff
    tag = struct.unpack_from(">Q", data, at)[0]
    c.notes.append(f"tag at QEMU stream byte {at} now {tag:#x}")
    refused(ctx, c, bytes(data), "qemu", r"^incomplete stream: no end record$",
            qemu_says=rf"{ctx['target']}: Unknown tag {tag:#x}")


CASES = [
    ("capture_good_streams", case_capture),
    ("flipped_vram_byte_refused_by_kernel", case_flipped_payload),
    ("resealed_vram_offset_refused_by_kernel", case_resealed_offset),
    ("other_profile_device_data_refused_by_kernel", case_other_profile),
    ("truncated_in_device_data_refused_by_qemu", case_truncated),
    ("damaged_vfio_tag_refused_by_qemu", case_damaged_tag),
]


def main():
    args = sys.argv[1:]
    ctx = {}
    if args[:1] == ["--control"]:
        ctx["control"] = True
        args = args[1:]
    cases = [CASES[0]] + [x for x in CASES[1:] if not args or x[0] in args]
    os.makedirs(WORK, exist_ok=True)
    ctx["medium"] = (vf_create("medium"), vf_create("medium"))
    ctx["small"] = (vf_create("small"), vf_create("small"))
    ctx["target"] = vf_create("medium")
    print(f"TAP version 13\n1..{len(cases)}", flush=True)
    failed = 0
    for i, (name, fn) in enumerate(cases, 1):
        start = time.time()
        c = Case(name)
        if i > 1 and "qs" not in ctx:
            c.failures.append("no captured stream")
        else:
            try:
                fn(ctx, c)
            except Exception as e:  # a case that crashes fails, the rest go on
                c.failures.append(f"{type(e).__name__}: {e}")
        print(f"# {name}: {'; '.join(c.notes)} ({time.time() - start:.1f} s)")
        for p in c.failures:
            print(f"#   FAILED: {p}")
        if c.failures:
            failed += 1
            for vm in ctx.get("vms", []):
                vm.dump()
        for vm in ctx.pop("vms", []):
            vm.stop()
        print(f"{'not ok' if c.failures else 'ok'} {i} - {name}", flush=True)
    for uuid in (*ctx["medium"], *ctx["small"], ctx["target"]):
        vf_remove(uuid)
    print(f"# hostile streams: {len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
