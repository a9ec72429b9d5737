#!/usr/bin/env bash
# Bounded fuzz run (CI): builds the three targets once, then runs each for FUZZ_SECONDS (default 20) seconds
# from the committed seeds (and, for the suite parser, the repo's own suites). The toolchain is stable:
# RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its sanitizer flags. Exits non-zero when a target crashes; the
# crashing input is left in fuzz/artifacts/<target>/ (replay: fuzz/target/<triple>/release/<target> <file>).
set -euo pipefail
cd "$(dirname "$0")"
secs=${FUZZ_SECONDS:-20}
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
bin=target/x86_64-unknown-linux-gnu/release
for t in ecosystem suite ipc_frames; do
  mkdir -p "corpus/$t" "artifacts/$t"
  extra=()
  if [ "$t" = suite ]; then extra=(../suites); fi
  if [ -d "regressions/$t" ]; then extra+=("regressions/$t"); fi  # inputs that once crashed, replayed
  echo "== fuzz $t for ${secs}s"
  "$bin/$t" "corpus/$t" "seeds/$t" "${extra[@]}" -artifact_prefix="artifacts/$t/" \
    -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>&1 \
    | grep -E '^(#[0-9]+ +(INITED|DONE)|Done|stat::|==[0-9]+==|SUMMARY|thread .* panicked|.*Test unit written)' || true
  # grep hides libFuzzer's chatter; the target's own status decides
  test "${PIPESTATUS[0]}" -eq 0
done
