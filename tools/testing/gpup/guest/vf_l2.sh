#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# In the test guest (L1): create a gpup VF and boot a small VM (L2) that
# holds it, with gpup_vf built into its kernel, and report what it ran.
#   vf_l2.sh BZIMAGE INITRD MODE [PROFILE [APPEND]]
# MODE is the L2 /init's gpupvf= (test, work:SECS), or reset:SECS: gpup-work
# for SECS seconds, but once it runs QEMU resets the VM (QMP system_reset,
# which resets the VF through VFIO_DEVICE_RESET with engine work in
# flight), and the second boot must bring the VF up and run gpup-work
# cleanly.  PROFILE small (default), medium or large.  Exit status: the L2
# command's.
set -euo pipefail
bzimage=$1 initrd=$2 mode=$3 profile=${4:-small} append=${5:-}

# This tree's own gpup_sim, as built by gpup-vf-test: the modules
# installed in the shared cache may come from another clone
if [ -f "$GPUP_TOP/drivers/gpup/sim/gpup_sim.ko" ]; then
	modprobe -a libcrc32c vfio mdev
	insmod "$GPUP_TOP/drivers/gpup/core/gpup_core.ko"
	insmod "$GPUP_TOP/drivers/gpup/sim/gpup_sim.ko"
else
	modprobe gpup_sim
fi
uuid=$(cat /proc/sys/kernel/random/uuid)
echo "$uuid" > "/sys/class/mdev_bus/gpup_sim/mdev_supported_types/gpup-$profile/create"
trap 'echo 1 > "/sys/bus/mdev/devices/$uuid/remove"' EXIT

log=/run/gpup/vf-l2-${mode%%:*}.log
qmp=/tmp/vf-l2.qmp

# Once gpup-work reports, reset the VM through QMP, once
reset_vm() {
	until grep -q '^gpup-work: t=' "$log" 2>/dev/null; do sleep 1; done
	printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"system_reset"}' |
		socat - "UNIX-CONNECT:$qmp" > /dev/null
	echo "vf_l2: system_reset sent"
}

: > "$log"
reboot=(-no-reboot)
case $mode in
reset:*)
	mode=work:${mode#reset:}
	reboot=()
	reset_vm &
	;;
esac
timeout -k 10 1500 qemu-system-x86_64 -accel tcg -m 256 -nodefaults \
	-display none -serial stdio "${reboot[@]}" \
	-kernel "$bzimage" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 gpupvf=$mode $append" \
	-device "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$uuid" \
	-qmp "unix:$qmp,server=on,wait=off" -trace "vfio_pci_reset*" \
	< /dev/null 2>&1 | tee -a "$log"
wait
rc=$(sed -n 's/^VF-L2-EXIT: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
[ -n "$rc" ] || { echo "vf_l2: the L2 guest did not finish"; exit 1; }
if [ ${#reboot[@]} = 0 ] && [ "$(grep -c '^gpup-work: start' "$log")" != 2 ]; then
	echo "vf_l2: the VM did not come back from its reset"
	exit 1
fi
if grep -qE 'BUG:|WARNING:|Oops|Call Trace' "$log"; then
	echo "vf_l2: the L2 kernel reported a problem"
	exit 1
fi
exit "$rc"
