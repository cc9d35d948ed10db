# SPDX-License-Identifier: GPL-2.0
#
# goslab: the user's entry point.
#
#   make / make modules     build goslab.ko and the KUnit modules against
#                           KDIR (default: the running kernel's headers)
#   make modules_install    install them into KDIR's module directory
#   make clean              remove what the build left
#   make run                on any Debian 12 machine: build a User-Mode
#                           Linux kernel, boot it, load goslab, show it
#   make check              the whole test suite; ends "N passed, N failed"
#                           (ONLY=uml,qemu,lint: some groups of steps)
#   make bench              goslab against SLUB in kernels without debug
#                           options: ratios, tables, CSV and plots
#   make torture            the randomized torture test for as long as
#                           asked: SEED= OPS= THREADS= SECONDS= SMP=
#   make dkms-install       (root) copy the sources to /usr/src/goslab-<ver>
#                           and dkms add, build and install them, for
#                           every kernel whose headers are installed
#   make dkms-remove        (root) dkms remove, and the copy goes

KDIR ?= /lib/modules/$(shell uname -r)/build
VERSION := $(shell cat VERSION)
DKMS_SRC := /usr/src/goslab-$(VERSION)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

clean:
	@if [ -d $(KDIR) ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; else \
		find . -path ./build -prune -o \( -name '*.o' -o -name '*.ko' \
		-o -name '*.mod' -o -name '*.mod.c' -o -name '.*.cmd' \
		-o -name 'modules.order' -o -name 'Module.symvers' \) \
		-print0 | xargs -0 rm -f; fi
	rm -rf build

run:
	scripts/goslab-run

check:
	$(if $(ONLY),GOSLAB_CHECK_ONLY=$(ONLY)) scripts/goslab-check

bench:
	scripts/goslab-bench

# SECONDS is bash's own variable: handed over under another name.
torture:
	SECONDS_TOTAL=$(or $(SECONDS),600) scripts/goslab-torture

# The files DKMS builds from, with dkms.conf's @VERSION@ filled in.
dkms-source:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)/scripts
	cp -r Kbuild VERSION goslab include $(DKMS_SRC)/
	cp scripts/dkms-post-build $(DKMS_SRC)/scripts/
	sed 's/@VERSION@/$(VERSION)/' dkms.conf > $(DKMS_SRC)/dkms.conf

dkms-install: dkms-source
	dkms add -m goslab -v $(VERSION)
	dkms build -m goslab -v $(VERSION)
	dkms install -m goslab -v $(VERSION)

dkms-remove:
	dkms remove -m goslab -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

.PHONY: all modules modules_install clean run check bench torture \
	dkms-source dkms-install dkms-remove
