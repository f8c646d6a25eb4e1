#!/usr/bin/env bash
# npm test: typecheck, unit tests, each fixture verified in Node (Dawn) and headless Chromium, then
# the demo and library built and tested end to end in Chromium. One decoder-only check
# (--from-reference-vision, the decoder fed the reference's vision output) keeps that debugging path
# working; it is counted apart from the full verify passes.
# Every step runs even after a failure, so one run shows everything that is broken.
# Fixtures come from $QWEN_FIXTURES (default ../shared/fixtures, relative to the repo root).
set -uo pipefail
cd "$(dirname "$0")/.."

FIXTURE_NAMES=(qwen35-tiny-text qwen35-tiny-moe qwen35-realdims-2l qwen35-tiny-vl-image qwen35-tiny-vl-video
  qwen3vl-tiny-image qwen3vl-tiny-video qwen3vl-tiny-fp8)
DECODER_ONLY_NAMES=(qwen3vl-tiny-fp8)
RUNTIMES=(node browser)
fixtures=${QWEN_FIXTURES:-../shared/fixtures}
[[ $fixtures = /* ]] || fixtures="$PWD/$fixtures"

summary=()
steps_failed=0
verify_passed=0
verify_failed=0
decoder_passed=0
decoder_failed=0

# step <label> <command...>: runs the command, records ok/FAILED and its duration.
step() {
  local label=$1 start=$SECONDS rc=0
  shift
  echo "=== $label: $*"
  "$@" || rc=$?
  if ((rc == 0)); then
    summary+=("$(printf '%-40s %-15s %5ds' "$label" ok $((SECONDS - start)))")
  else
    summary+=("$(printf '%-40s %-15s %5ds' "$label" "FAIL (exit $rc)" $((SECONDS - start)))")
    steps_failed=$((steps_failed + 1))
  fi
}

step typecheck npm run --silent typecheck
step 'unit tests' npm run --silent test:unit

# verify_one <label> <fixture dir> <runtime> [extra verify flags...]: sets rc and result.
verify_one() {
  local label=$1 dir=$2 runtime=$3 out
  shift 3
  echo "=== $label"
  if [[ ! -d $dir ]]; then
    result="fixture not found at $dir"
    rc=2
  else
    out=$(mktemp)
    npm run --silent verify -- "$dir" --runtime "$runtime" "$@" | tee "$out"
    rc=${PIPESTATUS[0]}
    result=$(tail -n 1 "$out")
    rm -f "$out"
  fi
}

for name in "${FIXTURE_NAMES[@]}"; do
  for runtime in "${RUNTIMES[@]}"; do
    label="verify $name ($runtime)"
    start=$SECONDS
    verify_one "$label" "$fixtures/$name" "$runtime"
    if ((rc == 0)); then
      verify_passed=$((verify_passed + 1))
      status=PASS
    else
      verify_failed=$((verify_failed + 1))
      status="FAIL (exit $rc)"
    fi
    summary+=("$(printf '%-40s %-15s %5ds  %s' "$label" "$status" $((SECONDS - start)) "$result")")
  done
done

for name in "${DECODER_ONLY_NAMES[@]}"; do
  for runtime in node; do
    label="decoder-only $name ($runtime)"
    start=$SECONDS
    verify_one "$label" "$fixtures/$name" "$runtime" --from-reference-vision
    if ((rc == 0)); then
      decoder_passed=$((decoder_passed + 1))
      status=PASS
    else
      decoder_failed=$((decoder_failed + 1))
      status="FAIL (exit $rc)"
    fi
    summary+=("$(printf '%-40s %-15s %5ds  %s' "$label" "$status" $((SECONDS - start)) "$result")")
  done
done

# The product surface: build the demo, its service worker and the library, then drive the built
# demo and a third-party page embedding the library in headless Chromium (e2e/).
step 'build (demo, PWA, library)' npm run --silent build
export QWEN_FIXTURES=$fixtures
step 'e2e (Playwright, Chromium)' npm run --silent test:e2e

echo
echo '=== summary'
printf '%s\n' "${summary[@]}"
echo "$verify_passed passed, $verify_failed failed; decoder-only (vision from the reference): $decoder_passed passed, $decoder_failed failed"
((steps_failed == 0 && verify_failed == 0 && decoder_failed == 0))
