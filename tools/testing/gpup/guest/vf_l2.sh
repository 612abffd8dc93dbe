#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# In the test guest (L1): create a gpup VF and boot a small VM (L2) that
# holds it, with gpup_vf built into its kernel, and report what it ran.
#   vf_l2.sh BZIMAGE INITRD MODE [PROFILE [APPEND]]
# MODE is the L2 /init's gpupvf= (test, work:SECS); PROFILE small (default),
# medium or large.  Exit status: the L2 command's.
set -euo pipefail
bzimage=$1 initrd=$2 mode=$3 profile=${4:-small} append=${5:-}

modprobe gpup_sim
uuid=$(cat /proc/sys/kernel/random/uuid)
echo "$uuid" > "/sys/class/mdev_bus/gpup_sim/mdev_supported_types/gpup-$profile/create"
trap 'echo 1 > "/sys/bus/mdev/devices/$uuid/remove"' EXIT

log=/run/gpup/vf-l2-$mode.log
timeout -k 10 1500 qemu-system-x86_64 -accel tcg -m 256 -nodefaults \
	-display none -serial stdio -no-reboot \
	-kernel "$bzimage" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 gpupvf=$mode $append" \
	-device "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$uuid" \
	< /dev/null 2>&1 | tee "$log"
rc=$(sed -n 's/^VF-L2-EXIT: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
[ -n "$rc" ] || { echo "vf_l2: the L2 guest did not finish"; exit 1; }
if grep -qE 'BUG:|WARNING:|Oops|Call Trace' "$log"; then
	echo "vf_l2: the L2 kernel reported a problem"
	exit 1
fi
exit "$rc"
