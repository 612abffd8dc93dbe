#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Live migration the way users run it: libvirt between two hosts.

Two "hosts" in the test guest, each a network namespace of its own with a
root of its own and its own libvirtd, joined only by a veth pair
(10.77.1.1 and 10.77.1.2).  A host's root is an overlay: the libvirt and
mdevctl packages that tools/testing/gpup/gpup-deps unpacks into the cache
(never installed on the build machine) over the guest's read-only root,
with a tmpfs on top for /etc/libvirt, /etc/mdevctl.d, /var/lib/libvirt
and the like.  Each libvirtd has its own hostname and host UUID, QEMU runs
as root without a security driver or cgroups, and libvirtd listens on TCP
without authentication on its veth address: a test bench, not a setup to
copy.

The VFs are defined with mdevctl (define --auto, start), each host its
own, and one more through libvirt's node device API alone, on the GPU
gpup_sim makes of the test guest's spare PCI function (libvirt takes a
definition only under a PCI, CCW or AP parent); the domain is the L2 guest of l2vm.py (its kernel, initramfs and
gpup-work workload) with its VF as an mdev hostdev, started with
virsh and moved with `virsh migrate --live` over TCP, from host 1 to host
2 and back, then to a host 2 VF of another profile, which must be refused
before the source stops, with a reason libvirt reports.

    libvirt_migrate.py [CASE...]

prints TAP.  Where the kernel cannot report the VF's (empty) DMA dirty
log, the domain carries the README's qemu:override (enable-migration=on);
elsewhere it has none.
"""

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid as uuidlib

from guest_migrate import WORK_ARGS, Case, verify, works_on
from l2vm import READY, Console, L2Timeout, available, cache_dir
from qemu_migrate import debugfs, dma_logging, dump_tail, reap, tap_case

CACHE = os.path.dirname(cache_dir())
ROOTS = (f"{CACHE}/libvirt", f"{CACHE}/mdevctl")
DOMAIN = "gpup-guest"
DOMAIN_UUID = "6770b1a5-9f2e-4a31-8c0d-2d6f1e5a0c01"
BOOT_TIMEOUT = 900
CONSOLE = "/run/gpup-console"   # the serial console's FIFOs, in each host's root
# QEMU with the guest's RAM off the 256 KiB grid (l2vm.ram_size() says why),
# copied into each host's root: the checkout may be out of the roots' sight
OFFGRID = os.path.join(os.path.dirname(os.path.abspath(__file__)), "qemu-offgrid")
EMULATOR = "/usr/local/bin/gpup-qemu-offgrid"


def run(cmd, check=True, timeout=600):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and out.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {(out.stderr or out.stdout).strip()}")
    return out


class Host:
    """A libvirt host: a network namespace, an overlay root, a libvirtd."""

    def __init__(self, n):
        self.n, self.ns, self.addr = n, f"gpup-lv{n}", f"10.77.1.{n}"
        self.hostname = f"gpup-host{n}"
        self.dir = f"/run/gpup-lv{n}"
        self.root = f"{self.dir}/root"
        self.proc = self.udevd = None
        self.log = None
        os.makedirs(f"{self.dir}/upper", exist_ok=True)
        os.makedirs(f"{self.dir}/work", exist_ok=True)
        os.makedirs(self.root, exist_ok=True)
        lower = ":".join(ROOTS + ("/",))
        run(["mount", "-t", "overlay", f"gpup-lv{n}", "-o",
             f"lowerdir={lower},upperdir={self.dir}/upper,workdir={self.dir}/work", self.root])
        for args, where in ((["-t", "proc", "proc"], "/proc"),
                            (["-t", "sysfs", "sysfs"], "/sys"),
                            (["--rbind", "/dev"], "/dev"),
                            (["-t", "tmpfs", "tmpfs"], "/run"),
                            (["-t", "tmpfs", "tmpfs"], "/tmp"),
                            (["--bind", CACHE], CACHE),
                            # udevd with no rules: it only passes the
                            # kernel's events on to libvirt's node devices
                            (["-t", "tmpfs", "tmpfs"], "/usr/lib/udev/rules.d"),
                            (["-t", "tmpfs", "tmpfs"], "/etc/udev/rules.d")):
            run(["mount", *args, self.root + where])
        self._configure()

    def path(self, p):
        """p inside this host's root, as the test sees it."""
        return self.root + p

    def write(self, p, text, mode="w"):
        with open(self.path(p), mode) as f:
            f.write(text)

    def _configure(self):
        for d in ("/var/log/libvirt/qemu", "/var/lib/libvirt/qemu", "/var/cache/libvirt",
                  "/etc/mdevctl.d/scripts.d/callouts", "/etc/mdevctl.d/scripts.d/notifiers"):
            os.makedirs(self.path(d), exist_ok=True)
        os.makedirs(self.path(os.path.dirname(EMULATOR)), exist_ok=True)
        shutil.copy(OFFGRID, self.path(EMULATOR))
        # the accounts the package's maintainer scripts would add: libvirt
        # looks its default QEMU user up before it reads user = "root"
        with open(self.path("/etc/passwd")) as f:
            if not re.search(r"^libvirt-qemu:", f.read(), re.M):
                self.write("/etc/passwd",
                           "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin\n", "a")
        with open(self.path("/etc/group")) as f:
            groups = f.read()
        for name, gid in (("libvirt-qemu", 64055), ("kvm", 64056), ("libvirt", 64057)):
            if not re.search(rf"^{name}:", groups, re.M):
                self.write("/etc/group", f"{name}:x:{gid}:\n", "a")
        self.write("/etc/hosts", "".join(f"10.77.1.{i} gpup-host{i}\n" for i in (1, 2)), "a")
        self.write("/etc/libvirt/qemu.conf", "\n".join((
            'security_driver = "none"', 'user = "root"', 'group = "root"',
            "dynamic_ownership = 0", "remember_owner = 0", "cgroup_controllers = [ ]",
            "namespaces = [ ]", 'stdio_handler = "file"', "")), "a")
        self.write("/etc/libvirt/libvirtd.conf", "\n".join((
            "listen_tls = 0", "listen_tcp = 1", 'auth_tcp = "none"',
            f'listen_addr = "{self.addr}"',
            f'host_uuid = "{uuidlib.UUID(int=self.n)}"',
            'log_outputs = "1:file:/var/log/libvirt/libvirtd.log"',
            'log_filters = "1:qemu.qemu_migration 1:nodedev 3:object 3:json 3:event'
            ' 3:util 3:rpc 3:conf 3:security 3:qemu"', "")), "a")

    def start(self):
        self.log = open(f"{self.dir}/libvirtd.out", "w")
        # libvirt learns that a node device came or went from udev
        self.udevd = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "chroot", self.root,
             "/usr/lib/systemd/systemd-udevd"], stdout=self.log, stderr=subprocess.STDOUT)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "unshare", "--uts", "sh", "-c",
             f'hostname {self.hostname} && exec chroot {self.root} /usr/sbin/libvirtd --listen'],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 300
        while True:
            out = self.virsh("version", check=False)
            if not out.returncode:
                return
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"host {self.n}: libvirtd did not come up:"
                                   f" {out.stderr.strip()}")
            time.sleep(1)

    def cmd(self, *args, check=True, timeout=600):
        """A command on this host: its network namespace, its root."""
        return run(["ip", "netns", "exec", self.ns, "chroot", self.root, *args],
                   check=check, timeout=timeout)

    def virsh(self, *args, check=True, timeout=600):
        return self.cmd("virsh", "-c", "qemu:///system", *args, check=check, timeout=timeout)

    def mdevctl(self, *args, check=True):
        return self.cmd("mdevctl", *args, check=check)

    def domstate(self):
        out = self.virsh("domstate", DOMAIN, check=False)
        return out.stdout.strip() if not out.returncode else "absent"

    def stop(self):
        if self.udevd:
            self.udevd.terminate()
            self.udevd.wait()
        if self.proc:
            try:
                doms = self.virsh("list", "--all", "--name", check=False, timeout=120)
            except subprocess.TimeoutExpired:
                doms = subprocess.CompletedProcess([], 1, "", "no answer in 120 s")
            if doms.returncode:
                print(f"# host {self.n}: virsh list: {doms.stderr.strip()}")
            for dom in doms.stdout.split():
                out = self.virsh("destroy", dom, check=False)
                if out.returncode and "not running" not in out.stderr:
                    print(f"# host {self.n}: virsh destroy {dom}: {out.stderr.strip()}")
                self.virsh("undefine", dom, check=False)
            self.proc.terminate()
            reap(self.proc)
            self.log.close()
        run(["umount", "-R", self.root], check=False)

    def dump(self, lines=30):
        for p in ("/var/log/libvirt/libvirtd.log", f"/var/log/libvirt/qemu/{DOMAIN}.log",
                  "/var/log/gpup-console.log"):
            dump_tail(self.path(p), lines, f"host {self.n}: {p}")


def qemu_state(pid):
    """What a process is doing: its state, where it sleeps, its age."""
    out = []
    for name in ("status", "wchan", "stat"):
        try:
            with open(f"/proc/{pid}/{name}") as f:
                text = f.read()
        except OSError:
            continue
        if name == "status":
            out += [line.split(None, 1)[1].strip() for line in text.splitlines()
                    if line.startswith(("State:", "PPid:", "Threads:"))]
        elif name == "wchan":
            out.append(f"wchan {text.strip()}")
        else:
            ticks = int(text.rsplit(")", 1)[1].split()[19])
            with open("/proc/uptime") as f:
                up = float(f.read().split()[0])
            out.append(f"started {up - ticks / os.sysconf('SC_CLK_TCK'):.0f} s ago")
    return ", ".join(out)


def release_vf(uuid):
    """Kill a QEMU still holding VF uuid: its removal would wait for it."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if f"/sys/bus/mdev/devices/{uuid}".encode() in cmdline:
            print(f"# QEMU {pid} outlived libvirt, holding {uuid}: {qemu_state(pid)}; killed")
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass


def network_up():
    subprocess.run(["modprobe", "veth"], capture_output=True)
    subprocess.run(["modprobe", "overlay"], capture_output=True)
    network_down()
    for n in (1, 2):
        run(["ip", "netns", "add", f"gpup-lv{n}"])
    run(["ip", "link", "add", "gpup-lvv1", "netns", "gpup-lv1", "type", "veth",
         "peer", "name", "gpup-lvv2", "netns", "gpup-lv2"])
    for n in (1, 2):
        ns = ["ip", "-n", f"gpup-lv{n}"]
        run([*ns, "addr", "add", f"10.77.1.{n}/24", "dev", f"gpup-lvv{n}"])
        run([*ns, "link", "set", f"gpup-lvv{n}", "up"])
        run([*ns, "link", "set", "lo", "up"])


def network_down():
    for n in (1, 2):
        subprocess.run(["ip", "netns", "del", f"gpup-lv{n}"], capture_output=True)


def domain_xml(uuid, override):
    """The L2 guest with the VF as an mdev hostdev; its console on FIFOs."""
    qemu_ns = "http://libvirt.org/schemas/domain/qemu/1.0"
    # switchover-ack, which libvirt does not set: QEMU's migration object
    # takes it from the command line, with the return path it needs
    extra = """
  <qemu:commandline>
    <qemu:arg value='-global'/>
    <qemu:arg value='migration.x-return-path=on'/>
    <qemu:arg value='-global'/>
    <qemu:arg value='migration.x-switchover-ack=on'/>
  </qemu:commandline>"""
    if override:
        extra += f"""
  <qemu:override>
    <qemu:device alias='ua-gpu0'>
      <qemu:frontend>
        <qemu:property name='enable-migration' type='string' value='on'/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>"""
    return f"""<domain type='qemu' xmlns:qemu='{qemu_ns}'>
  <name>{DOMAIN}</name>
  <uuid>{DOMAIN_UUID}</uuid>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{cache_dir()}/bzImage</kernel>
    <initrd>{cache_dir()}/initramfs.cpio</initrd>
    <cmdline>console=ttyS0 panic=-1 gpup.mode=work gpup.args="{WORK_ARGS}"</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>{EMULATOR}</emulator>
    <controller type='usb' model='none'/>
    <serial type='pipe'>
      <source path='{CONSOLE}'/>
      <log file='/var/log/gpup-console.log'/>
    </serial>
    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>
      <source><address uuid='{uuid}'/></source>
      <alias name='ua-gpu0'/>
    </hostdev>
    <memballoon model='none'/>
  </devices>{extra}
</domain>
"""


def console_fifos(host):
    for end in ("in", "out"):
        p = host.path(f"{CONSOLE}.{end}")
        if not os.path.exists(p):
            os.mkfifo(p)
    return host.path(CONSOLE)


def jobinfo(host):
    """virsh domjobinfo --completed on host, as a dict."""
    out = host.virsh("domjobinfo", DOMAIN, "--completed", check=False).stdout
    return dict((k.strip(), v.strip()) for k, v in
                (line.split(":", 1) for line in out.splitlines() if ":" in line))


def migrate(ctx, src, dst, uuid, relax_after=15, p2p=False):
    """virsh migrate --live src -> dst onto VF uuid; (ok, error text).

    p2p: the source's libvirtd drives the move (what OpenStack Nova asks
    for), not virsh.
    """
    xml = domain_xml(uuid, ctx["override"])
    src.write("/tmp/dst.xml", xml)
    console_fifos(dst)
    stop = threading.Event()

    def relax():
        # a guest that outruns pre-copy gets 2 s, as an operator would
        # grant, early: these cases are about libvirt, not downtime
        if not stop.wait(relax_after):
            src.virsh("migrate-setmaxdowntime", DOMAIN, "2000", check=False)
    watcher = threading.Thread(target=relax, daemon=True)
    watcher.start()
    out = src.virsh("migrate", "--live", *(["--p2p"] if p2p else []),
                    "--persistent", "--undefinesource",
                    "--xml", "/tmp/dst.xml", DOMAIN, f"qemu+tcp://{dst.addr}/system",
                    f"tcp://{dst.addr}", check=False, timeout=900)
    stop.set()
    watcher.join()
    return not out.returncode, (out.stderr or out.stdout).strip()


def attach_console(host):
    return Console(host.path(CONSOLE))


class Guest:
    """Where the domain runs: its host and the console the test reads."""

    def __init__(self, host, console):
        self.host, self.console = host, console

    def send(self, line):
        self.console.send(line)

    def wait(self, pattern, timeout=60):
        return self.console.wait(pattern, timeout)


def define_vfs(ctx):
    """Each host's VFs, defined (started at boot) and started with mdevctl."""
    h1, h2 = ctx["hosts"]
    for host, key, profile in ((h1, "m1", "medium"), (h2, "m2", "medium"),
                               (h2, "small", "small")):
        u = str(uuidlib.uuid4())
        host.mdevctl("define", "-u", u, "-p", "gpup_sim", "-t", f"gpup-{profile}", "--auto")
        host.mdevctl("start", "-u", u)
        ctx[key] = u


def case_mdevctl(ctx):
    """mdevctl: profiles with their attributes, persistent VFs, start and stop."""
    c = Case()
    h1 = ctx["hosts"][0]
    types = h1.mdevctl("types").stdout
    for profile in ("small", "medium", "large", "xlarge"):
        c.check(re.search(rf"gpup-{profile}\n\s+Available instances: \d+\n\s+Device API: vfio-pci",
                          types), f"mdevctl types: no gpup-{profile}: {types[:200]}")
    vfs = {key: ctx[key] for key in ("m1", "m2", "small")}
    for host, key, profile in ((h1, "m1", "medium"), (ctx["hosts"][1], "m2", "medium"),
                               (ctx["hosts"][1], "small", "small")):
        listed = host.mdevctl("list", "--defined").stdout
        c.check(f"{vfs[key]} gpup_sim gpup-{profile} auto" in listed, f"defined: {listed}")
        c.check(os.path.isdir(f"/sys/bus/mdev/devices/{vfs[key]}"), f"{vfs[key]} not started")
    # stop and start again: the definition stays
    h1.mdevctl("stop", "-u", vfs["m1"])
    c.check(not os.path.exists(f"/sys/bus/mdev/devices/{vfs['m1']}"), "stop left the VF")
    c.check(vfs["m1"] in h1.mdevctl("list", "--defined").stdout, "stop dropped the definition")
    h1.mdevctl("start", "-u", vfs["m1"])
    c.check(os.path.isdir(f"/sys/bus/mdev/devices/{vfs['m1']}"), "restart failed")
    # a profile that does not fit what is left of the pool
    big = str(uuidlib.uuid4())
    h1.mdevctl("define", "-u", big, "-p", "gpup_sim", "-t", "gpup-large")
    left = int(re.search(r"gpup-large\n\s+Available instances: (\d+)",
                         h1.mdevctl("types").stdout)[1])
    started = []
    out = None
    for _ in range(left + 1):
        u = str(uuidlib.uuid4())
        out = h1.mdevctl("start", "-u", u, "-p", "gpup_sim", "-t", "gpup-large", check=False)
        if out.returncode:
            break
        started.append(u)
    c.check(out is not None and out.returncode != 0 and len(started) == left,
            f"{len(started)} large VFs started where {left} fit")
    why = (out.stderr or out.stdout).strip() if out else ""
    for u in started:
        h1.mdevctl("stop", "-u", u, check=False)
    h1.mdevctl("undefine", "-u", big)
    return c, f"over the pool: {why!s:.120}"


def nodedev_name(uuid):
    return f"mdev_{uuid.replace('-', '_')}_gpup_sim"


def nodedev_cycle(c, host, name, u, parent):
    """A defined VF started, listed under its parent, stopped and undefined by virsh."""
    start = host.virsh("nodedev-start", name, check=False)
    c.check(not start.returncode and os.path.isdir(f"/sys/bus/mdev/devices/{u}"),
            f"nodedev-start {name}: {start.stderr.strip()}")
    xml = host.virsh("nodedev-dumpxml", name, check=False).stdout
    c.check(f"<parent>{parent}</parent>" in xml and "<type id='gpup-small'/>" in xml,
            f"nodedev-dumpxml {name}: {xml}")
    stop = host.virsh("nodedev-destroy", name, check=False)
    c.check(not stop.returncode and not os.path.exists(f"/sys/bus/mdev/devices/{u}"),
            f"nodedev-destroy {name}: {stop.stderr.strip()}")
    gone = host.virsh("nodedev-undefine", name, check=False)
    c.check(not gone.returncode and u not in host.mdevctl("list", "--defined").stdout,
            f"nodedev-undefine {name}: {gone.stderr.strip()}")


def case_nodedev(ctx):
    """libvirt's node devices: the VFs mdevctl defined, started and stopped by virsh."""
    c = Case()
    h1 = ctx["hosts"][0]
    listed = h1.virsh("nodedev-list", "--cap", "mdev", "--all").stdout.split()
    c.check(nodedev_name(ctx["m1"]) in listed, f"nodedev-list: {listed}")
    xml = h1.virsh("nodedev-dumpxml", nodedev_name(ctx["m1"])).stdout
    c.check("<type id='gpup-medium'/>" in xml and ctx["m1"] in xml, f"nodedev-dumpxml: {xml}")
    u = str(uuidlib.uuid4())
    h1.mdevctl("define", "-u", u, "-p", "gpup_sim", "-t", "gpup-small")
    name = nodedev_name(u)
    deadline = time.time() + 30      # libvirt sees /etc/mdevctl.d change
    while name not in h1.virsh("nodedev-list", "--cap", "mdev", "--inactive").stdout.split():
        if not c.check(time.time() < deadline, f"{name} not listed inactive"):
            return c, ""
        time.sleep(0.5)
    # a parent libvirt does not list as a node device: "computer"
    nodedev_cycle(c, h1, name, u, "computer")
    # libvirt takes a definition only under a parent it knows as a node
    # device with mdev types: a PCI, CCW or AP device.  gpup_sim's own GPU
    # stands on a virtual device, so a definition there is refused; one
    # bound to a PCI function takes it
    h1.write("/tmp/vf.xml", "<device><parent>gpup_sim</parent><capability type='mdev'>"
             "<type id='gpup-small'/></capability></device>")
    define = h1.virsh("nodedev-define", "/tmp/vf.xml", check=False)
    c.check(define.returncode and "gpup_sim" in define.stderr,
            f"nodedev-define under the virtual GPU: {define.stdout} {define.stderr}")
    said = " ".join((define.stderr or define.stdout).split())
    pci_bind(True)
    try:
        nodedev_define_on_pci(c, h1)
    finally:
        pci_bind(False)
    return c, f"under gpup_sim: {said!s:.120}"


# The PCI function gpup-vm gives the test guest, and libvirt's name for it
PCI_GPU = "0000:00:10.0"
PCI_GPU_NODE = "pci_" + PCI_GPU.replace(":", "_").replace(".", "_")


def pci_bind(bind):
    """Make the spare PCI function a simulated GPU, or a bare function again."""
    dev = f"/sys/bus/pci/devices/{PCI_GPU}"
    driver = os.path.realpath(f"{dev}/driver") if os.path.exists(f"{dev}/driver") else None
    if driver and os.path.basename(driver) != "gpup":
        raise RuntimeError(f"{PCI_GPU} is held by {driver}")
    if bool(driver) == bind:
        return
    with open(f"{dev}/driver_override", "w") as f:
        f.write("gpup" if bind else "\n")
    where = "/sys/bus/pci/drivers_probe" if bind else "/sys/bus/pci/drivers/gpup/unbind"
    with open(where, "w") as f:
        f.write(PCI_GPU)


def nodedev_define_on_pci(c, host):
    """A VF defined, started, stopped and undefined through libvirt alone."""
    deadline = time.time() + 30      # libvirt sees the bind's uevents
    while PCI_GPU_NODE not in host.virsh("nodedev-list", "--cap", "mdev_types").stdout.split():
        if not c.check(time.time() < deadline, f"{PCI_GPU_NODE} not listed with mdev types"):
            return
        time.sleep(0.5)
    xml = host.virsh("nodedev-dumpxml", PCI_GPU_NODE).stdout
    c.check(all(f"<type id='gpup-{p}'>" in xml for p in ("small", "medium", "large", "xlarge")) and
            "<capability type='mdev_types'>" in xml and "<name>gpup</name>" in xml,
            f"nodedev-dumpxml {PCI_GPU_NODE}: {xml}")
    u = str(uuidlib.uuid4())
    host.write("/tmp/vf.xml", f"<device><parent>{PCI_GPU_NODE}</parent>"
               "<capability type='mdev'><type id='gpup-small'/>"
               f"<uuid>{u}</uuid></capability></device>")
    define = host.virsh("nodedev-define", "/tmp/vf.xml", check=False)
    m = re.search(r"Node device '(\S+)' defined", define.stdout)
    if not c.check(not define.returncode and m and u in host.mdevctl("list", "--defined").stdout,
                   f"nodedev-define: {define.stdout} {define.stderr}"):
        return
    nodedev_cycle(c, host, m.group(1), u, PCI_GPU_NODE)


def ram_off_grid(c, host, where):
    """Whether the domain's QEMU on host has its RAM off the 256 KiB grid."""
    out = host.virsh("qemu-monitor-command", DOMAIN, "--hmp", "info ramblock",
                     check=False).stdout
    m = re.search(r"pc\.ram\s+\d+ \S+\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)", out)
    return c.check(m and int(m.group(1), 16) % (256 << 10),
                   f"{where}: guest RAM not through {EMULATOR}: {out.strip()[-400:]}")


def case_libvirt_migrate(ctx):
    """virsh migrate --live to the other host and back: the guest works on, verified."""
    c = Case()
    h1, h2 = ctx["hosts"]
    h1.write("/tmp/guest.xml", domain_xml(ctx["m1"], ctx["override"]))
    console_fifos(h1)
    h1.virsh("define", "/tmp/guest.xml")
    h1.virsh("start", DOMAIN)
    guest = Guest(h1, attach_console(h1))
    ctx["guest"] = guest
    try:
        guest.wait(READY, timeout=BOOT_TIMEOUT)
        guest.wait(r"gpup-work: start .*irq=msi", timeout=120)
    except L2Timeout as e:
        c.check(False, f"boot: {e}")
        return c, ""
    works_on(c, guest, 0, "boot")
    ram_off_grid(c, h1, "boot")
    line = []
    for src, dst, key in ((h1, h2, "m2"), (h2, h1, "m1")):
        ok, err = migrate(ctx, src, dst, ctx[key])
        if not c.check(ok, f"host {src.n} -> {dst.n}: {err}"):
            return c, ""
        c.check(src.domstate() == "absent", f"host {src.n} still has {src.domstate()}")
        c.check(dst.domstate() == "running", f"host {dst.n}: {dst.domstate()}")
        old = guest.console
        guest = Guest(dst, attach_console(dst))
        ctx["guest"] = guest
        old.close()
        works_on(c, guest, 0, f"on host {dst.n}")
        verify(c, guest, f"on host {dst.n}")
        ram_off_grid(c, dst, f"on host {dst.n}")
        job = jobinfo(dst)
        c.check("Time elapsed" in job and "Data processed" in job,
                f"domjobinfo on host {dst.n}: {job}")
        caps = dst.virsh("qemu-monitor-command", DOMAIN,
                         '{"execute":"query-migrate-capabilities"}').stdout
        c.check(re.search(r'"state":\s*true,\s*"capability":\s*"switchover-ack"', caps),
                f"host {dst.n}: switchover-ack off: {caps}")
        fig = {k: " ".join(job.get(k, "?").split()) for k in
               ("Time elapsed", "Total downtime", "Data processed")}
        line.append(f"{src.n}->{dst.n}: {fig['Time elapsed']}, downtime"
                    f" {fig['Total downtime']}, {fig['Data processed']}")
    return c, "; ".join(line)


def case_libvirt_incompatible(ctx):
    """To a host whose VF has another profile: refused, the source runs on.

    Tried as virsh drives it and as the source's libvirtd does (--p2p).
    libvirt 9.0 reports the source QEMU's view ("Sibling indicated
    error"), or the target QEMU's last lines when it ended first (the VF's
    section); the reason is in the target's kernel log (the field that
    differs) and the VF's last_error.
    """
    c = Case()
    guest = ctx.get("guest")
    if not c.check(guest and guest.host is ctx["hosts"][0], "no guest on host 1"):
        return c, ""
    h1, h2 = ctx["hosts"]
    errors = []
    for p2p in (False, True):
        how = "p2p" if p2p else "direct"
        dmesg = len(run(["dmesg"]).stdout.splitlines())
        ok, err = migrate(ctx, h1, h2, ctx["small"], p2p=p2p)
        errors.append(f"{how}: {' '.join(err.split())}")
        c.check(not ok, f"{how}: the migration to a small VF completed")
        # the source's view, or the target QEMU's when it ended first
        c.check(re.search(r"job 'migration out' failed|state section id \d+\([0-9a-f:.]+/vfio\)",
                          err), f"{how}: libvirt said {err!r}")
        why = debugfs(ctx["small"], "migration").get("last_error", "")
        c.check("profile" in why, f"{how}: target's reason: {why}")
        kernel = "\n".join(run(["dmesg"]).stdout.splitlines()[dmesg:])
        c.check(f"{ctx['small']}: migration refused: incompatible device: profile" in kernel,
                f"{how}: target's kernel log: {kernel[-300:]}")
        with open(h2.path(f"/var/log/libvirt/qemu/{DOMAIN}.log"), errors="replace") as f:
            qemu_log = f.read()
        c.check(re.search(r"error while loading state section id \d+\([0-9a-f:.]+/vfio\)",
                          qemu_log), f"{how}: the target's QEMU log names no VFIO section")
        c.check(h1.domstate() == "running", f"{how}: source: {h1.domstate()}")
        c.check(h2.domstate() == "absent", f"{how}: target: {h2.domstate()}")
        c.check(debugfs(ctx["small"], "vram")["pages_allocated"] == "0",
                f"{how}: target VRAM written")
        # refused during pre-copy: the source's stream never reached stop-copy
        mig = debugfs(ctx["m1"], "migration")
        c.check(int(mig["precopy_bytes"]) > 0 and int(mig["stopcopy_bytes"]) == 0,
                f"{how}: source stream: {mig['precopy_bytes']} bytes pre-copy,"
                f" {mig['stopcopy_bytes']} stop-copy")
        works_on(c, guest, len(guest.console.lines), f"{how}: after the refusal")
    verify(c, guest, "after the refusals")
    return c, " | ".join(f"{e!s:.300}" for e in errors)


CASES = [
    ("mdevctl_defines_and_starts_vfs", case_mdevctl),
    ("libvirt_node_devices", case_nodedev),
    ("libvirt_live_migration_there_and_back", case_libvirt_migrate),
    ("libvirt_incompatible_target_refused", case_libvirt_incompatible),
]


def main():
    only = sys.argv[1:]
    cases = [c for c in CASES if not only or c[0] in only]
    print(f"TAP version 13\n1..{len(cases)}", flush=True)
    why = available() or next((f"no {r} (run tools/testing/gpup/gpup-deps)"
                               for r in ROOTS if not os.path.isdir(r)), None)
    if why:
        print(f"Bail out! {why}")
        return 1
    ctx = {"override": not dma_logging(), "hosts": []}
    try:
        network_up()
        for n in (1, 2):
            ctx["hosts"].append(Host(n))
        for h in ctx["hosts"]:
            h.start()
        define_vfs(ctx)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        print(f"Bail out! {e}")
        for h in ctx["hosts"]:
            h.dump()
            h.stop()
        network_down()
        return 1
    print(f"# override (enable-migration=on): {'yes' if ctx['override'] else 'no'}")
    def dump(name):
        for h in ctx["hosts"]:
            h.dump()
    failed = sum(not tap_case(i, name, fn, ctx, dump) for i, (name, fn) in enumerate(cases, 1))
    if ctx.get("guest"):
        ctx["guest"].console.close()
    for h in ctx["hosts"]:
        h.stop()
    network_down()
    for key in ("m1", "m2", "small"):
        if key in ctx:
            release_vf(ctx[key])
            subprocess.run(["sh", "-c", f"echo 1 > /sys/bus/mdev/devices/{ctx[key]}/remove"],
                           capture_output=True)
    print(f"# libvirt migration: {len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
