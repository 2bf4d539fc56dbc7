# SPDX-License-Identifier: GPL-2.0-only
# vmtests/vmtests.mk - `make vmcheck`: the datapath and namespace suites
# inside VMs booting other kernels (vmtests/README.md).  Included by the
# top Makefile.
#
#   make vmcheck                        Debian's 6.1 and 6.12 kernels
#   make vmcheck KERNELS="host 6.1"     any of host, 6.1, 6.12, linux-image-...
#   make vmcheck VM_DIFF=1              add the (slow) differential test
#   make vmcheck VM_NO_TCX=1            camfence with the clsact fallback
#   make vmcheck VM_SLOW=1              keep the fault tests under TCG
#
# Everything is built on the host first; each kernel boots once.

KERNELS ?= 6.1 6.12
VM_DIFF ?= 0
VM_NO_TCX ?= 0
VM_SLOW ?= 0

VMCHECK_DEPS := $(O)/camfence $(O)/tests/test_datapath $(O)/tests/test_frames
ifeq ($(VM_DIFF),1)
VMCHECK_DEPS += $(O)/tests/test_differential
endif
VMCHECK_FLAGS := $(if $(filter 1,$(VM_DIFF)),--diff) \
	$(if $(filter 1,$(VM_NO_TCX)),--no-tcx) \
	$(if $(filter 1,$(VM_SLOW)),--slow)

.PHONY: vmcheck vmclean

vmcheck: $(VMCHECK_DEPS)
	$(Q)O=$(O) vmtests/vmcheck.sh $(VMCHECK_FLAGS) $(KERNELS)

# The downloaded kernels stay in ~/.cache/camfence-vm (VM_CACHE).
vmclean:
	rm -rf $(O)/vm
