# SPDX-License-Identifier: GPL-2.0-only
#
# Out-of-tree build of the gpup modules against an installed kernel's
# headers:  make [KDIR=...]  /  make install  /  make uninstall  /
# make lint  /  make nlgen
# The test and demo entry points live in tools/testing/gpup/.
#
# make install [DESTDIR=...] [prefix=/usr/local] [UAPI_INCLUDE=...]
#   the modules under /lib/modules/KVER/updates/gpup (then depmod),
#   gpupctl and its man page, libgpup.a with libgpup.h and libgpup.pc;
#   UAPI_INCLUDE: the 6.12 uAPI headers libgpup needs where the system's
#   are older (see tools/lib/gpup/Makefile).  make uninstall removes them.

KDIR ?= /lib/modules/$(shell uname -r)/build
# the release KDIR was built for, where its modules live
KVER = $(shell $(MAKE) -s --no-print-directory -C $(KDIR) kernelrelease)
prefix ?= /usr/local
export DESTDIR prefix
GPUP_MOD_DIR := $(CURDIR)/drivers/gpup
KBUILD_OPTS := -C $(KDIR) M=$(GPUP_MOD_DIR) CONFIG_GPUP_CORE=m CONFIG_GPUP_SIM=m \
	CONFIG_GPUP_VF=m
CHECKPATCH ?= $(KDIR)/scripts/checkpatch.pl
KERNELDOC ?= $(dir $(CHECKPATCH))kernel-doc

all: modules

modules:
	$(MAKE) $(KBUILD_OPTS) modules

# The guest driver alone, for a VM's kernel (which needs no VFIO)
vf:
	$(MAKE) -C $(KDIR) M=$(GPUP_MOD_DIR) CONFIG_GPUP_VF=m modules

# W=1 and sparse over every source file, warnings are errors
modules-strict:
	$(MAKE) $(KBUILD_OPTS) clean
	$(MAKE) $(KBUILD_OPTS) W=1 C=2 CHECKFLAGS="-Wsparse-error" \
		KCFLAGS="-Werror" modules

install: install-modules install-tools

# Unsigned, as a local build is (DKMS signs where the system has a key)
install-modules: modules
	$(MAKE) $(KBUILD_OPTS) INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates/gpup \
		CONFIG_MODULE_SIG_ALL= modules_install
	depmod $(if $(DESTDIR),-b $(DESTDIR)) $(KVER)

install-tools:
	$(MAKE) -C tools/gpupctl install
	$(MAKE) -C tools/lib/gpup install

uninstall:
	rm -rf $(DESTDIR)/lib/modules/$(KVER)/updates/gpup
	depmod $(if $(DESTDIR),-b $(DESTDIR)) $(KVER)
	$(MAKE) -C tools/gpupctl uninstall
	$(MAKE) -C tools/lib/gpup uninstall

clean:
	$(MAKE) $(KBUILD_OPTS) clean

# The netlink code generated from Documentation/netlink/specs/gpup.yaml,
# written again with the kernel's generator (kernel tree in the cache)
nlgen:
	tools/testing/gpup/gpup-nlgen

# gpup_compat.h is the one header that may test the kernel's version, and
# its initializer macros expand to nothing where a member does not exist;
# stream_user.h stands in for the kernel's headers in user space, so it
# defines the attribute macros checkpatch asks for, and an empty export.
# The generated netlink files pass checkpatch as they come; they are
# checked against a fresh generation from the spec.
lint:
	$(CHECKPATCH) --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES \
		-f $(filter-out %/trace.h %/gpup_compat.h %/stream_user.h,$(shell git ls-files '*.c' '*.h'))
	$(CHECKPATCH) --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,PREFER_DEFINED_ATTRIBUTE_MACRO,MACRO_ARG_UNUSED \
		-f $(filter %/stream_user.h,$(shell git ls-files '*.h'))
	$(CHECKPATCH) --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT \
		-f $(filter %/trace.h,$(shell git ls-files '*.h'))
	$(CHECKPATCH) --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,LINUX_VERSION_CODE,MACRO_ARG_UNUSED \
		-f $(filter %/gpup_compat.h,$(shell git ls-files '*.h'))
	$(KERNELDOC) -none -Wall -Werror $(shell git ls-files 'drivers/*.[ch]')
	@# and every exported function has its kernel-doc
	@for sym in $$(git grep -h -o 'EXPORT_SYMBOL_GPL([a-z0-9_]*)' -- drivers | \
		       sed 's/.*(\(.*\))/\1/'); do \
		git grep -q "^ \* $$sym() - " -- drivers || \
			{ echo "$$sym: exported without kernel-doc"; exit 1; }; \
	done
	tools/testing/gpup/gpup-nlgen --check

check:
	tools/testing/gpup/gpup-check

demo:
	tools/testing/gpup/gpup-demo

.PHONY: all modules vf modules-strict install install-modules install-tools uninstall \
	clean nlgen lint check demo
