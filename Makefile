# SPDX-License-Identifier: GPL-2.0-only
# camfence - top-level build.  `make help` lists the targets.

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR ?= $(PREFIX)/share/doc/camfence
# systemd reads /lib/systemd/system and /usr/local/lib/systemd/system
ifeq ($(PREFIX),/usr)
UNITDIR ?= /lib/systemd/system
else
UNITDIR ?= $(PREFIX)/lib/systemd/system
endif
SYSCONFDIR ?= /etc
DESTDIR ?=
O ?= build

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# The target: ARCH as uname -m spells it; the BPF headers want the
# kernel's name for it.  (The multiarch include directory, which holds
# the asm/ headers clang -target bpf needs, comes from config.mk: the
# compiler that knows it may not be installed when make starts.)
ARCH ?= $(shell uname -m)
BPF_ARCH := $(or $(strip \
	$(if $(filter x86_64 i%86,$(ARCH)),x86) \
	$(if $(filter aarch64 arm64,$(ARCH)),arm64) \
	$(if $(filter arm%,$(filter-out arm64,$(ARCH))),arm) \
	$(if $(filter ppc64%,$(ARCH)),powerpc) \
	$(if $(filter s390%,$(ARCH)),s390) \
	$(if $(filter riscv%,$(ARCH)),riscv) \
	$(if $(filter loongarch%,$(ARCH)),loongarch)),$(ARCH))

# What the machine provides (library flags, whether the fuzzer runtime
# links) is probed by scripts/configure.sh into $(O)/config.mk when a
# recipe first needs it: on a fresh machine `make deps demo` parses this
# file before deps has installed anything, so nothing here may run
# pkg-config at parse time.  A missing package stops the build there,
# named with its Debian package.  `make deps` removes config.mk so the
# next build probes again.
CONFIG := $(O)/config.mk
config = $(shell sed -n 's/^$(1) := //p' $(CONFIG))
# Read once, on first use in a recipe (make has built $(CONFIG) by then).
PKG_CFLAGS = $(eval PKG_CFLAGS := $(call config,PKG_CFLAGS))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $(call config,PKG_LIBS))$(PKG_LIBS)
MULTIARCH = $(eval MULTIARCH := $(call config,MULTIARCH))$(MULTIARCH)

# The project's flags stay apart from the user's: CFLAGS, CPPFLAGS and
# LDFLAGS (make CFLAGS=-O0, dpkg-buildflags) come last and replace only
# what they name.  -MMD -MP: each object depends on the headers it
# included, as the compiler saw them.
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-missing-field-initializers
CF_CPPFLAGS := -D_GNU_SOURCE -Ipolicy -Ibpf -Iloader -I$(O)
CF_CFLAGS := -std=gnu11 $(WARN) -MMD -MP
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# $(call cc_flags) for objects; the libraries' flags are read at that point
cc_flags = $(CF_CPPFLAGS) $(CPPFLAGS) $(CF_CFLAGS) $(CFLAGS) $(PKG_CFLAGS)

BPF_CFLAGS = -g -O2 -target bpf -Wall -Werror -MMD -MP \
	-D__TARGET_ARCH_$(BPF_ARCH) $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH)) -Ibpf

POLICY_SRCS := $(wildcard policy/*.c)
LOADER_SRCS := $(wildcard loader/*.c)
BPF_SRCS := $(wildcard bpf/*.bpf.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
BPFTEST_SRCS := $(wildcard tests/bpf/test_*.c)
DIFF_SRCS := $(wildcard tests/diff/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

POLICY_OBJS := $(POLICY_SRCS:%.c=$(O)/%.o)
POLICY_SAN_OBJS := $(POLICY_SRCS:%.c=$(O)/san/%.o)
LOADER_OBJS := $(LOADER_SRCS:%.c=$(O)/%.o)
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(O)/bpf/%.bpf.o)
SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(O)/%.skel.h)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)
BPFTEST_BINS := $(BPFTEST_SRCS:tests/bpf/%.c=$(O)/tests/%)
DIFF_BINS := $(DIFF_SRCS:tests/diff/%.c=$(O)/tests/%)
POLICY_FUZZ_OBJS := $(POLICY_SRCS:%.c=$(O)/fuzz/%.o)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(O)/fuzz/%)
FUZZ_SECONDS ?= 20
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

# Every object and binary compiled with -MMD leaves a .d beside it.
# (gcc and clang name it after the output, its last suffix replaced).
DEPFILES := $(addsuffix .d,$(basename $(POLICY_OBJS) $(POLICY_SAN_OBJS) \
	$(LOADER_OBJS) $(POLICY_FUZZ_OBJS) $(BPF_OBJS)) \
	$(UNIT_BINS) $(BPFTEST_BINS) $(DIFF_BINS) $(FUZZ_BINS))

.DELETE_ON_ERROR:
# Keep the BPF objects and skeletons make would delete as intermediates.
.SECONDARY: $(BPF_OBJS) $(SKELS)
.PHONY: all deps check install install-config uninstall clean help tests demo \
	fuzz fuzzers fuzz-bins FORCE

all: $(O)/camfence tests

tests: $(UNIT_BINS) $(BPFTEST_BINS) $(DIFF_BINS) fuzzers

# Probed on every run that builds, written only when it changes, so the
# objects are rebuilt when the machine's flags change and not otherwise.
$(CONFIG): FORCE
	$(Q)mkdir -p $(@D)
	$(Q)CC="$(CC)" CLANG="$(CLANG)" BPFTOOL="$(BPFTOOL)" PKG_CONFIG="$(PKG_CONFIG)" \
		scripts/configure.sh $@.new
	$(Q)if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

$(O)/libcfpolicy.a: $(POLICY_OBJS)
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

$(O)/san/libcfpolicy.a: $(POLICY_SAN_OBJS)
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

$(O)/policy/%.o: policy/%.c $(CONFIG)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(cc_flags) -c $< -o $@

$(O)/san/policy/%.o: policy/%.c $(CONFIG)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(cc_flags) $(SAN) -c $< -o $@

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(CONFIG)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# The skeletons are generated headers: they must exist before the first
# compile that includes them; later, the .d files name them.
$(O)/loader/%.o: loader/%.c $(CONFIG) | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(cc_flags) -c $< -o $@

$(O)/camfence: $(LOADER_OBJS) $(O)/libcfpolicy.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

# Tests: cmocka under AddressSanitizer and UBSan.  Unit tests of policy/,
# datapath tests (the real BPF objects through BPF_PROG_TEST_RUN) and
# differential tests (the BPF program against an independent reference).
test_link = $(CC) $(cc_flags) $(SAN) -Itests $(LDFLAGS) $< \
	$(O)/san/libcfpolicy.a $(PKG_LIBS) -lcmocka -o $@

$(O)/tests/test_%: tests/unit/test_%.c $(O)/san/libcfpolicy.a $(CONFIG)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(test_link)

$(O)/tests/test_%: tests/bpf/test_%.c $(O)/san/libcfpolicy.a $(CONFIG) | $(SKELS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(test_link)

$(O)/tests/test_%: tests/diff/test_%.c $(O)/san/libcfpolicy.a $(CONFIG) | $(SKELS)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(test_link)

# libFuzzer harnesses (clang), policy/ built with fuzzer coverage.  Built
# by `make` only where clang's fuzzer runtime links (config.mk's FUZZER);
# elsewhere tests/fuzz/run.sh says SKIP.
fuzzers: $(CONFIG)
	$(Q)if [ "$(call config,FUZZER)" = 1 ]; then \
		$(MAKE) --no-print-directory fuzz-bins; \
	else \
		echo "  SKIP     fuzzers: clang's libFuzzer runtime does not link (libclang-rt-14-dev)"; \
	fi

fuzz-bins: $(FUZZ_BINS)

$(O)/fuzz/policy/%.o: policy/%.c $(CONFIG)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(cc_flags) -Wno-unused-command-line-argument $(FUZZ_FLAGS) -c $< -o $@

# The image builder visits all 2^17 root entries per input: comparison
# tracing there costs the compile harness half its speed and guides nothing.
$(O)/fuzz/policy/table.o: FUZZ_FLAGS := -fsanitize=address,undefined \
	-fsanitize-coverage=inline-8bit-counters,pc-table \
	-fno-omit-frame-pointer -fno-sanitize-recover=all

$(O)/fuzz/libcfpolicy.a: $(POLICY_FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(O)/fuzz/libcfpolicy.a $(CONFIG)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(cc_flags) -Itests -fsanitize=fuzzer,address,undefined \
		-fno-omit-frame-pointer -fno-sanitize-recover=all $(LDFLAGS) \
		$< $(O)/fuzz/libcfpolicy.a $(PKG_LIBS) -o $@

# A longer fuzzing run than `make check` does: make fuzz FUZZ_SECONDS=600
fuzz: $(FUZZ_BINS)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

-include $(DEPFILES)

# bench/ and vmtests/ bring their own targets (make bench, make vmcheck).
-include bench/bench.mk
-include vmtests/vmtests.mk

deps:
	$(Q)scripts/deps.sh
	$(Q)CAMFENCE_TESTDATA=$(O)/testdata scripts/testdata.sh || \
		echo "deps: test data not fetched; the tests that need it will SKIP"

# The whole suite, the VM layer (vmtests/) last; VMCHECK=0 leaves it out.
VMCHECK ?= 1
check: all bench-build
	$(Q)VMCHECK=$(VMCHECK) KERNELS="$(KERNELS)" O=$(O) tests/run.sh

demo: all
	$(Q)scripts/demo.sh

MAN8 := man/camfence.8
MAN5 := man/camfence.conf.5 man/camfence-policy.5
EXAMPLES := packaging/camfence.conf packaging/policy.conf

# The unit names the binary where this install puts it.
install: $(O)/camfence
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(O)/camfence $(DESTDIR)$(SBINDIR)/camfence
	sed 's|/usr/sbin/camfence|$(SBINDIR)/camfence|' packaging/camfence.service \
		> $(DESTDIR)$(UNITDIR)/camfence.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/camfence.service
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 completion/camfence.bash $(DESTDIR)$(BASHCOMPDIR)/camfence
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/

# The examples into /etc/camfence, never over the operator's files.
install-config:
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/camfence
	for f in $(EXAMPLES); do \
		t=$(DESTDIR)$(SYSCONFDIR)/camfence/$${f##*/}; \
		[ -e "$$t" ] && echo "keeping $$t" || install -m 0644 $$f "$$t"; \
	done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/camfence $(DESTDIR)$(UNITDIR)/camfence.service \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5))) \
		$(DESTDIR)$(BASHCOMPDIR)/camfence \
		$(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(EXAMPLES)))
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf $(O)

help:
	@echo 'Targets:'
	@echo '  deps       install the Debian packages the build, run and tests need'
	@echo '  all        build camfence, the BPF objects and the tests (default)'
	@echo '  check      run the test suite (root: datapath and namespace tests)'
	@echo '  demo       the main job: namespaces, attach, push, traffic, stats'
	@echo '  fuzz       libFuzzer harnesses for FUZZ_SECONDS each (default 20)'
	@echo '  install    install into $$(DESTDIR)$$(PREFIX) (PREFIX=$(PREFIX))'
	@echo '  install-config  example configs into /etc/camfence, if absent'
	@echo '  uninstall  remove what install put there'
	@echo '  clean      remove $(O)/'
	@echo 'Variables: V=1 verbose, O=dir build output, CC, CLANG, BPFTOOL,'
	@echo '  CFLAGS CPPFLAGS LDFLAGS (added after the project'"'"'s own), ARCH'
