#!/usr/bin/env bash
# Measures the release arm64 build of every Lambda binary under several profile settings,
# side by side in one run: for each variant, one cold `cargo lambda build --release --arm64`
# of all binaries (what `sam build` runs through the Makefile), its wall time, and each
# function's bootstrap size and zipped size (zipped as SAM does: Python zipfile, deflate).
#
#   scripts/bench-build.sh [VARIANT...]   fat thin nolto thin-s check fat3 (default: the first four)
#
# Each variant builds in its own target directory (target/bench-build/<variant>) from
# scratch (removed first), so every figure includes compiling the dependencies. `fat` is the
# release profile of Cargo.toml as committed; the others override it through Cargo's
# CARGO_PROFILE_RELEASE_* variables. Results: target/bench-build/<variant>/time (wall, user, sys),
# lambda-sizes.tsv (per function: bootstrap, zipped, the binary's own compile+link seconds)
# and cargo-timings/, and a summary on standard output. Takes long on 2 cores: see
# BENCHMARKS.md (section 5) for the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh .venv scripts/requirements-build.txt
rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1 || true
export PATH="$PWD/.venv/bin:$PATH"

variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(fat thin nolto thin-s)

for variant in "${variants[@]}"; do
  settings=()
  profile=release
  bins=(-p evreg-functions)
  case "$variant" in
    fat) ;;
    thin) settings=(CARGO_PROFILE_RELEASE_LTO=thin CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16) ;;
    # No cross-crate LTO: Cargo's default release settings (lto = false, 16 codegen units).
    nolto) settings=(CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16) ;;
    thin-s) settings=(CARGO_PROFILE_RELEASE_LTO=thin CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
      CARGO_PROFILE_RELEASE_OPT_LEVEL=s) ;;
    # make test's quick build: Cargo.toml's lambda-check profile (no optimisation, no LTO).
    check) profile=lambda-check ;;
    # The release profile, but three binaries only: the dependencies' time plus three fat
    # LTO links, from which a whole build (one cargo run, two links at a time) and today's
    # per-function rust-cargolambda build (29 cargo runs, one link at a time) are estimated.
    fat3) bins=(--bin health --bin events-create --bin worker-tickets) ;;
    *) echo "unknown variant $variant" >&2; exit 2 ;;
  esac
  dir="target/bench-build/$variant"
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '\n== %s %s\n' "$variant" "${settings[*]:-(the release profile of Cargo.toml)}"
  # Wall time, and the CPU time of the whole build (user + system, children included: on
  # a shared machine the wall time depends on the neighbours, the CPU time much less).
  TIMEFORMAT="%R %U %S"
  { time env ${settings[@]+"${settings[@]}"} CARGO_TARGET_DIR="$dir" cargo lambda build \
    --profile "$profile" --arm64 --locked "${bins[@]}" --lambda-dir "$dir/lambda" --timings \
    > "$dir/build.log" 2>&1 || { tail -30 "$dir/build.log" >&2; exit 1; }; } 2> "$dir/time"
  read -r wall user sys < "$dir/time"
  printf -- '-- %s: %.0f s wall, %.0f s CPU (user %.0f + system %.0f); load average %s\n' \
    "$variant" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$user" "$sys" "$(cut -d' ' -f1-3 /proc/loadavg)"
  mv target/cargo-timings "$dir/cargo-timings" 2>/dev/null || true
  .venv/bin/python scripts/bench_build_report.py "$dir/lambda" "$dir"
done
