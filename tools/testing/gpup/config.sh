# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the gpup test scripts: the one place that pins versions and
# says where downloads and builds are cached (outside the clone).

# Debian's 6.12 kernel: image and headers must be this exact pair.
GPUP_DEB_KVER=6.12.117+deb12-amd64
GPUP_DEB_PKGVER=6.12.117-1~deb12u1
# Where Debian 12 has them: gpup-deps fetches them from there with an apt
# of its own on either release
GPUP_DEB_SUITES=bookworm,bookworm-security

# Debian's newest kernel, from trixie-backports: the second guest kernel.
# Its packages are downloaded and unpacked into the cache, never installed.
GPUP_DEB7_KVER=7.3.4+deb13-amd64
GPUP_DEB7_PKGVER=7.3.4-1~bpo13+1
GPUP_DEB7_SUITE=trixie-backports
# 7.x's sparse check needs __typeof_unqual__: sparse 0.6.5, built from
# Debian's source package (forky's binary needs a newer C library)
GPUP_SPARSE7_SUITE=forky
GPUP_SPARSE7_PKGVER=0.6.5~rc1-2

GPUP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
GPUP_CACHE=${GPUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gpup}
GPUP_KSRC=$GPUP_CACHE/linux-source-6.12
GPUP_DEBUG_BUILD=$GPUP_CACHE/kbuild-debug
GPUP_L2_BUILD=$GPUP_CACHE/kbuild-l2
GPUP_L2=$GPUP_CACHE/l2
GPUP_DEB_ROOT=$GPUP_CACHE/debian-$GPUP_DEB_KVER
GPUP_DEB7_ROOT=$GPUP_CACHE/debian-$GPUP_DEB7_KVER	# image, modules, config
GPUP_KSRC7=$GPUP_CACHE/linux-source-7.3

# Debian 12's 6.12 headers (with linux-kbuild's programs) and source
# tarball, unpacked into the cache by gpup-deps on both releases: installed,
# the headers would pull in the kernel image and with it initramfs-tools,
# udev and a kernel in /boot
GPUP_DEB_HEADERS=$GPUP_CACHE/headers-$GPUP_DEB_KVER/usr/src/linux-headers-$GPUP_DEB_KVER
GPUP_KSRC_TAR=$GPUP_CACHE/linux-source-$GPUP_DEB_PKGVER.tar.xz

# The host's Debian release decides where the 7.x kernel's build tree is
GPUP_HOST=$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")
case $GPUP_HOST in
trixie)
	# Debian 13: Debian's own 7.x headers, whose programs need its newer
	# C library, unpacked into the cache by gpup-deps; clang for the fuzzers
	GPUP_DEB7_KBUILD=$GPUP_CACHE/headers-$GPUP_DEB7_KVER/usr/src/linux-headers-$GPUP_DEB7_KVER
	GPUP_CLANG_VER=19
	;;
*)
	# Debian 12: the 7.x tree prepared in the cache
	GPUP_DEB7_KBUILD=$GPUP_CACHE/kbuild-$GPUP_DEB7_KVER	# prepared for M= builds
	GPUP_CLANG_VER=14
	;;
esac
GPUP_SPARSE7=$GPUP_CACHE/sparse-$GPUP_SPARSE7_PKGVER/sparse
# The host release's dkms: unpacked by gpup-deps, never installed, run by gpup-dkms
GPUP_DKMS_ROOT=$GPUP_CACHE/dkms
GPUP_DKMS=$GPUP_DKMS_ROOT/usr/sbin/dkms
# The host release's mdevctl for the demo guest, unpacked the same way:
# installed, it would pull in udev
GPUP_MDEVCTL_ROOT=$GPUP_CACHE/mdevctl
GPUP_MDEVCTL=$GPUP_MDEVCTL_ROOT/usr/bin/mdevctl
# libvirt, udev and what the host lacks of their dependencies, unpacked
# the same way for the libvirt tests
GPUP_LIBVIRT_ROOT=$GPUP_CACHE/libvirt
export CCACHE_DIR=${CCACHE_DIR:-$GPUP_CACHE/ccache}

gpup_log() { printf '[gpup %s] %s\n' "$(date +%T)" "$*" >&2; }
gpup_die() { gpup_log "error: $*"; exit 1; }

GPUP_BIN=$GPUP_CACHE/bin

# The kernel tree (for checkpatch and the KUnit/debug kernel), extracted once
gpup_ksrc() {
	if [ ! -f "$GPUP_KSRC/Makefile" ]; then
		gpup_log "extracting linux-source-6.12 into $GPUP_CACHE"
		mkdir -p "$GPUP_CACHE"
		tar -C "$GPUP_CACHE" -xf "$GPUP_KSRC_TAR"
	fi
}

# drivers/gpup grafted into that tree, for the kernels built with gpup in
# them: a symlink to this clone's drivers/gpup and one line each in
# drivers/Kconfig and drivers/Makefile (drivers/gpup/Makefile picks the
# parts by symbol).  The tree is shared: the last clone to graft wins.
gpup_graft() {
	local link=$GPUP_KSRC/drivers/gpup mk=$GPUP_KSRC/drivers/Makefile
	gpup_ksrc
	if [ "$(readlink "$link" || true)" != "$GPUP_TOP/drivers/gpup" ]; then
		gpup_log "grafting $GPUP_TOP/drivers/gpup into $GPUP_KSRC"
		ln -sfn "$GPUP_TOP/drivers/gpup" "$link"
	fi
	grep -q 'drivers/gpup/Kconfig' "$GPUP_KSRC/drivers/Kconfig" ||
		sed -i '/^endmenu/i source "drivers/gpup/Kconfig"' \
			"$GPUP_KSRC/drivers/Kconfig"
	if ! grep -qx 'obj-y += gpup/' "$mk"; then
		sed -i '/^obj-.*[[:space:]]gpup\/$/d' "$mk"
		echo 'obj-y += gpup/' >> "$mk"
	fi
}
