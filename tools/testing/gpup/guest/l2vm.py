# SPDX-License-Identifier: GPL-2.0-only
"""L2 VMs with a real guest OS, for the in-guest tests.

An L2 VM is a QEMU started inside the test guest with the L2 kernel and
initramfs that tools/testing/gpup/gpup-l2-build caches in $GPUP_CACHE/l2,
optionally a gpup VF assigned, QMP on a unix socket as in qemu_migrate.py
(whose QMP client and migrate() it shares), and its serial console on a
pair of FIFOs that the harness reads and writes.  QEMU copies the
console to NAME.console.log; dump() prints its tail, and the VM's QEMU log
and VFIO trace, as TAP comments.

    src = L2VM("src", uuid, args="--mib 16")   # booted, console connected
    src.wait(READY, timeout=600)
    src.wait(r"gpup-work: t=")                 # gpup-work reports each second
    dst = L2VM("dst", uuid2, incoming=True)    # same kernel, initramfs, args
    info = migrate(src, dst)                   # qemu_migrate.migrate
    dst.send("verify")                         # the guest goes on in dst
    dst.wait(r"gpup-work: verify ok", timeout=60)
    for vm in (src, dst):
        vm.stop()

The /init of the initramfs (tools/testing/gpup/l2-init) takes its orders
from the kernel command line: mode="work" runs gpup-work with its stdin
and stdout on the console and args as its arguments, mode="shell" a
shell, mode="idle" nothing.  It prints "gpup-l2: ready" once it has
listed the VFs it sees, and "gpup-l2: exit N" when what it ran ended,
then powers the VM off.

Files go to $GPUP_L2_WORK, by default the test guest's shared run
directory (/run/gpup/l2, kept on the host) or /var/tmp/gpup-l2: never
the test guest's /tmp, a tmpfs (its /var/tmp and the cache are
read-only).  The QMP socket and the console's FIFOs go to a directory
under /run, where the socket's path stays short of the 108 bytes a unix
socket's path may have.

    l2vm.py --boots N [VF-UUID]

boots N VMs one after another and prints the time each took to get
ready, and any panic: the L2 guest's boot time and failure rate.
"""

import os
import re
import subprocess
import tempfile
import threading
import time

from qemu_migrate import QMP, dma_logging, dump_tail, migrate, reap  # noqa: F401 (migrate: for the callers)

READY = r"gpup-l2: ready"
EXIT = r"gpup-l2: exit (\d+)"


def cache_dir():
    """$GPUP_CACHE/l2, with config.sh's default for GPUP_CACHE."""
    cache = os.environ.get("GPUP_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gpup")
    return f"{cache}/l2"


def work_dir():
    """Where the L2 VMs' logs and traces go: a disk, not a tmpfs."""
    for d in (os.environ.get("GPUP_L2_WORK"), "/run/gpup/l2", "/var/tmp/gpup-l2"):
        if not d:
            continue
        try:
            os.makedirs(d, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=d)
            probe.close()
            return d
        except OSError:
            continue
    raise RuntimeError("no writable directory for the L2 VMs' files")


def available():
    """None when the L2 kernel and initramfs are there, else why not."""
    for f in ("bzImage", "initramfs.cpio"):
        if not os.path.exists(f"{cache_dir()}/{f}"):
            return f"no {cache_dir()}/{f} (run tools/testing/gpup/gpup-l2-build)"
    return None


class L2Timeout(Exception):
    pass


def ram_size(mib):
    """QEMU's -m for a guest of mib MiB: 8 KiB more, off QEMU's 256 KiB grid.

    QEMU 10.0's TCG can lose a guest's stores to RAM in a migration.  For a
    RAM block whose size is a multiple of 64 pages, a dirty-bitmap sync
    (include/exec/ram_addr.h, cpu_physical_memory_sync_dirty_bitmap()) re-arms
    the vCPU's write tracking only when it finds a page not already queued
    to send, and a store through a TLB entry that was not re-armed marks
    nothing: a page written after it was sent stays stale on the target.
    Seen as guest RAM that differs between the stopped source and the target
    after a completed migration, and as target guests that oopsed or hung.
    A block off that grid takes the page-at-a-time path, which re-arms every
    page it harvests.  (KVM's dirty log does not go through this.)  A
    string is QEMU's -m as it is (ram_compare.py shows the bug with "128M").
    """
    return mib if isinstance(mib, str) else f"{mib * 1024 + 8}k"


class Console:
    """A serial console: QEMU's pipe chardev, a reader thread for its lines.

    QEMU writes the guest's output to BASE.out and reads its input from
    BASE.in, two FIFOs.  (A socket chardev loses and repeats bytes when
    the harness reads late: the serial device writes a byte at a time, a
    unix socket's send buffer fills with a few hundred of them, and
    "reserved" arrives as "reerved".  A FIFO holds 64 KiB of them.)
    """

    def __init__(self, base):
        # QEMU holds both FIFOs open read-write, so neither open blocks
        self.rfd = os.open(f"{base}.out", os.O_RDONLY)
        self.wfd = os.open(f"{base}.in", os.O_WRONLY)
        self.lines = []        # complete lines, without line ends
        self.partial = ""      # the line being written (a prompt, say)
        self.pos = 0           # lines before it were matched already
        self.closed = False
        self.first = None      # when the first byte came (time.time())
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()

    def _reader(self):
        buf = b""
        while True:
            try:
                data = os.read(self.rfd, 4096)
            except OSError:
                data = b""
            with self.cond:
                if not data:   # QEMU ended
                    self.closed = True
                    self.cond.notify_all()
                    return
                if self.first is None:
                    self.first = time.time()
                buf += data
                *done, buf = buf.split(b"\n")
                for line in done:
                    self.lines.append(line.decode(errors="replace").rstrip("\r"))
                self.partial = buf.decode(errors="replace")
                self.cond.notify_all()

    def wait(self, pattern, timeout=60, partial=False):
        """The first match of pattern in a line after the last match.

        Looks at the complete lines since the previous wait() matched;
        with partial=True at the unfinished line too (a prompt), where a
        match may end early as the rest of the line has not come yet.
        Raises L2Timeout after timeout seconds, or when the console
        closes (the VM ended) first.
        """
        regex = re.compile(pattern)
        deadline = time.time() + timeout
        with self.cond:
            while True:
                while self.pos < len(self.lines):
                    m = regex.search(self.lines[self.pos])
                    self.pos += 1
                    if m:
                        return m
                m = regex.search(self.partial) if partial else None
                if m:
                    return m
                left = deadline - time.time()
                if self.closed or left <= 0:
                    why = "console closed" if self.closed else f"{timeout} s"
                    raise L2Timeout(f"no line matching {pattern!r} ({why})")
                self.cond.wait(left)

    def send(self, line):
        """Type a line on the console."""
        os.write(self.wfd, line.encode() + b"\n")

    def close(self):
        """After QEMU ended: the reader has seen the end of the output."""
        self.thread.join(timeout=5)
        os.close(self.rfd)
        os.close(self.wfd)


class L2VM:
    """A QEMU running the L2 kernel, optionally with a gpup VF.

    name: files are NAME.console.log, NAME.log (QEMU's own output) and
      NAME.trace (VFIO migration trace, as qemu_migrate.py's VMs have);
    uuid: the VF to assign, or None;
    incoming: start with -incoming defer, as a migration destination;
    mode, args: what the guest's /init runs (see the module's doc);
    append: more kernel parameters; mem: RAM in MiB;
    multifd: the VF's state over multifd channels;
    netns: the network namespace QEMU runs in (another "host");
    override: enable-migration=on on the VF; by default only where the
      kernel cannot report the VF's (empty) DMA dirty log.
    The source VM starts paused, the console is connected, then it runs:
    no line of its boot is lost.
    """

    def __init__(self, name, uuid=None, incoming=False, mode="work", args="",
                 append="", mem=128, multifd=False, netns=None, override=None):
        self.name, self.uuid, self.netns = name, uuid, netns
        images = cache_dir()
        work = work_dir()
        self.sockdir = tempfile.mkdtemp(prefix="gpup-l2-", dir="/run")
        self.qmp_path = f"{self.sockdir}/{name}.qmp"
        self.console_path = f"{self.sockdir}/{name}.console"
        self.console_log = f"{work}/{name}.console.log"
        self.log_path = f"{work}/{name}.log"
        self.trace = f"{work}/{name}.trace"
        cmdline = f"console=ttyS0 panic=-1 gpup.mode={mode}"
        if args:
            cmdline += f' gpup.args="{args}"'
        if append:
            cmdline += f" {append}"
        device = []
        if uuid:
            dev = f"vfio-pci,sysfsdev=/sys/bus/mdev/devices/{uuid},id=gpu"
            if override is None:
                override = not dma_logging()
            if override:
                dev += ",enable-migration=on"
            if multifd:
                dev += ",x-migration-multifd-transfer=on"
            device = ["-device", dev]
        qemu = ["qemu-system-x86_64", "-accel", "tcg", "-m", ram_size(mem), "-nodefaults",
                "-display", "none", "-no-reboot",
                "-kernel", f"{images}/bzImage", "-initrd", f"{images}/initramfs.cpio",
                "-append", cmdline,
                "-chardev", f"pipe,id=con,path={self.console_path},logfile={self.console_log}",
                "-serial", "chardev:con", *device,
                "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
                "-trace", "vfio_migration*", "-trace", "vfio_save*",
                "-trace", "vfio_load*", "-trace", "vfio_state_pending*",
                "-trace", "vfio_pci_reset*", "-D", self.trace]
        qemu += ["-incoming", "defer"] if incoming else ["-S"]
        if netns:
            qemu = ["ip", "netns", "exec", netns, *qemu]
        for fifo in (f"{self.console_path}.in", f"{self.console_path}.out"):
            os.mkfifo(fifo)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(qemu, stdout=self.log, stderr=subprocess.STDOUT)
        self.console = None
        try:
            self.qmp = QMP(self.qmp_path)
            self.console = Console(self.console_path)
            if not incoming:
                self.qmp.cmd("cont")
        except Exception:
            self.stop()
            raise

    def wait(self, pattern, timeout=60, partial=False):
        """See Console.wait: the next console line matching pattern."""
        return self.console.wait(pattern, timeout, partial)

    def send(self, line):
        self.console.send(line)

    def status(self):
        return self.qmp.cmd("query-status")["status"]

    def stop(self):
        """Quit QEMU (killed if it hangs), close the console and QMP."""
        try:
            self.qmp.cmd("quit")
        except (AttributeError, RuntimeError, OSError, ValueError):
            pass
        reap(self.proc)
        if self.console:
            self.console.close()
        self.log.close()
        for f in (self.qmp_path, f"{self.console_path}.in", f"{self.console_path}.out"):
            try:
                os.unlink(f)
            except OSError:
                pass
        try:
            os.rmdir(self.sockdir)
        except OSError:
            pass

    def dump(self, lines=40):
        """The tails of the console, QEMU's log and the trace, as TAP comments.

        A guest that still runs shows where its CPU is and its stack's top
        too (a hung guest says nothing on its console): symbolize them with
        the L2 kernel's System.map.
        """
        for path in (self.console_log, self.log_path, self.trace):
            dump_tail(path, lines)
        for hmp in ("info registers", "x/16gx $sp"):
            try:
                # a QEMU whose main loop is stuck must not hang the run
                self.qmp.sock.settimeout(10)
                out = self.qmp.cmd("human-monitor-command", **{"command-line": hmp})
            except (AttributeError, RuntimeError, OSError, ValueError) as e:
                print(f"# --- {self.name}: {hmp}: {e}")
                break
            print(f"# --- {self.name}: {hmp}")
            for line in str(out).splitlines()[:24]:
                print(f"#   {line}")


def boots(n, uuid=None):
    """Boot n VMs one after another; print what each took, and the panics."""
    ready = panics = 0
    for i in range(1, n + 1):
        start = time.time()
        vm = L2VM(f"boot{i}", uuid, mode="idle")
        up = time.time() - start
        try:
            m = vm.wait(r"gpup-l2: ready \(.*uptime ([0-9.]+) s, clocksource (\w+)", timeout=900)
            wall = time.time() - start
            init = re.search(r"\[ *([0-9.]+)\] Run /init", "\n".join(vm.console.lines))
            ready += 1
            first = vm.console.first - start
            print(f"boot {i}: ready after {wall:.1f} s wall (QEMU up {up:.1f} s, kernel's"
                  f" first line {first:.1f} s); guest: /init at"
                  f" {init.group(1) if init else '?'} s, ready at {m.group(1)} s,"
                  f" clocksource {m.group(2)}", flush=True)
        except L2Timeout as e:
            print(f"boot {i}: {e}", flush=True)
        time.sleep(2)   # a panic right after ready shows too
        vm.stop()
        with open(vm.console_log, errors="replace") as f:
            if re.search(r"Kernel panic|Oops|BUG:|WARNING:", f.read()):
                panics += 1
                print(f"boot {i}: PANIC, see {vm.console_log}", flush=True)
                vm.dump(60)
    print(f"boots: {n}, ready {ready}, panics {panics}")
    return 0 if ready == n and not panics else 1


if __name__ == "__main__":
    import sys
    # l2vm.py --boots N [UUID]: boot time and failure rate of the L2 guest
    if len(sys.argv) in (3, 4) and sys.argv[1] == "--boots":
        sys.exit(boots(int(sys.argv[2]), sys.argv[3] if len(sys.argv) == 4 else None))
    print("usage: l2vm.py --boots N [VF-UUID]", file=sys.stderr)
    sys.exit(2)
