# SPDX-License-Identifier: GPL-2.0-only
# bench/ - camfence side by side with the LPM trie, nftables and ipset.
# Included by the top Makefile; output under $(O)/bench/.
#
#   make bench        the full run (~5-7 min): bench/results/, bench/README.md
#   make bench-smoke  a ~15-20 s run that fails if any part of the bench breaks

BENCH_O := $(O)/bench
BENCH_SRCS := $(filter-out %.bpf.c,$(wildcard bench/*.c))
BENCH_OBJS := $(BENCH_SRCS:bench/%.c=$(BENCH_O)/%.o)
BENCH_HDRS := $(wildcard bench/*.h)

.PHONY: bench bench-smoke bench-build

bench-build: $(BENCH_O)/cfbench $(O)/camfence

bench: bench-build
	$(Q)O=$(O) bench/run.sh

bench-smoke: bench-build
	$(Q)O=$(O) bench/run.sh --smoke

$(BENCH_O)/bench.bpf.o: bench/bench.bpf.c $(CONFIG)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $@

$(BENCH_O)/bench.skel.h: $(BENCH_O)/bench.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name bench > $@

$(BENCH_O)/%.o: bench/%.c $(CONFIG) | $(BENCH_O)/bench.skel.h $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(cc_flags) -Ibench -I$(BENCH_O) -c $< -o $@

$(BENCH_O)/cfbench: $(BENCH_OBJS) $(O)/libcfpolicy.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

-include $(BENCH_OBJS:.o=.d) $(BENCH_O)/bench.bpf.d
