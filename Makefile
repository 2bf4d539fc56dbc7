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
ARCH := $(shell uname -m)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS := libbpf libnl-3.0 libnl-route-3.0 libloc libmaxminddb
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -Ipolicy -Ibpf -Iloader -I$(O) $(PKG_CFLAGS)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BPF_CFLAGS := -g -O2 -target bpf -Wall -Werror -D__TARGET_ARCH_x86 \
	-I/usr/include/$(ARCH)-linux-gnu -Ibpf

POLICY_SRCS := $(wildcard policy/*.c)
LOADER_SRCS := $(wildcard loader/*.c)
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_HDRS := $(wildcard bpf/*.h)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
BPFTEST_SRCS := $(wildcard tests/bpf/test_*.c)
DIFF_SRCS := $(wildcard tests/diff/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
HDRS := $(wildcard policy/*.h loader/*.h) $(BPF_HDRS)

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
# Without clang's libFuzzer runtime the harnesses cannot link; leave them
# out so the rest builds (tests/fuzz/run.sh then says SKIP).
ifeq ($(wildcard $(shell $(CLANG) -print-file-name=libclang_rt.fuzzer-$(ARCH).a 2>/dev/null)),)
FUZZ_BINS :=
endif

.DELETE_ON_ERROR:
# Keep the BPF objects and skeletons make would delete as intermediates.
.SECONDARY: $(BPF_OBJS) $(SKELS)
.PHONY: all deps check install install-config uninstall clean help tests demo fuzz

all: $(O)/camfence tests

tests: $(UNIT_BINS) $(BPFTEST_BINS) $(DIFF_BINS) $(FUZZ_BINS)

$(O)/libcfpolicy.a: $(POLICY_OBJS)
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

$(O)/san/libcfpolicy.a: $(POLICY_SAN_OBJS)
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

$(O)/policy/%.o: policy/%.c $(HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(O)/san/policy/%.o: policy/%.c $(HDRS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -c $< -o $@

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

$(O)/loader/%.o: loader/%.c $(HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(O)/camfence: $(LOADER_OBJS) $(O)/libcfpolicy.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PKG_LIBS) -o $@

# Unit tests of policy/: cmocka, AddressSanitizer and UBSan.
$(O)/tests/test_%: tests/unit/test_%.c $(O)/san/libcfpolicy.a $(HDRS) \
		$(wildcard tests/unit/*.h)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -Itests $< $(O)/san/libcfpolicy.a $(PKG_LIBS) -lcmocka -o $@

# Datapath tests: the real BPF objects through BPF_PROG_TEST_RUN.
$(O)/tests/test_%: tests/bpf/test_%.c $(O)/san/libcfpolicy.a $(SKELS) $(HDRS) \
		$(wildcard tests/bpf/*.h tests/bpf/ref_*.c)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -Itests $< $(O)/san/libcfpolicy.a $(PKG_LIBS) -lcmocka -o $@

# Differential tests: the BPF program against an independent reference.
$(O)/tests/test_%: tests/diff/test_%.c $(O)/san/libcfpolicy.a $(SKELS) $(HDRS) \
		$(wildcard tests/bpf/*.h tests/diff/*.h)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -Itests $< $(O)/san/libcfpolicy.a $(PKG_LIBS) -lcmocka -o $@

# libFuzzer harnesses (clang), policy/ built with fuzzer coverage.
$(O)/fuzz/policy/%.o: policy/%.c $(HDRS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CFLAGS) -Wno-unused-command-line-argument $(FUZZ_FLAGS) -c $< -o $@

# The image builder visits all 2^17 root entries per input: comparison
# tracing there costs the compile harness half its speed and guides nothing.
$(O)/fuzz/policy/table.o: FUZZ_FLAGS := -fsanitize=address,undefined \
	-fsanitize-coverage=inline-8bit-counters,pc-table \
	-fno-omit-frame-pointer -fno-sanitize-recover=all

$(O)/fuzz/libcfpolicy.a: $(POLICY_FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(O)/fuzz/libcfpolicy.a $(HDRS)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(CFLAGS) -Itests -fsanitize=fuzzer,address,undefined \
		-fno-omit-frame-pointer -fno-sanitize-recover=all \
		$< $(O)/fuzz/libcfpolicy.a $(PKG_LIBS) -o $@

# A longer fuzzing run than `make check` does: make fuzz FUZZ_SECONDS=600
fuzz: $(FUZZ_BINS)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

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
	@echo 'Variables: V=1 verbose, O=dir build output, CC, CLANG, BPFTOOL'
