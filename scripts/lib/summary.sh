# The closing lines of scripts/test (sourced, not run): every skip with its reason, then one
# summary over every CTest run. A skip never passes unseen: unit tests (support/requirements.h)
# and integration tests (netns.sh `skip`, or a part of a test) print "SKIP: reason", and CTest
# reports the test as "Skipped" (GTEST_SKIP; an integration test's exit status 77, its
# SKIP_RETURN_CODE), which summary_line counts.

# skip_reasons BUILD_DIR: "  skipped: TEST: reason" for every SKIP: line in the last CTest run
# there (CTest keeps each test's whole output in LastTest.log, also when it passed).
skip_reasons() {
  local log=$1/Testing/Temporary/LastTest.log
  [[ -f $log ]] || return 0
  awk '/^[0-9]+\/[0-9]+ Testing: / { test = $3 }
       /^SKIP: / { sub(/^SKIP: /, ""); printf "  skipped: %s: %s\n", test, $0 }' "$log"
}

# summary_line CTEST_OUTPUT...: "test: N passed, N failed, N skipped, N disabled" over the CTest
# runs whose console output was saved in the files. CTest counts a skipped or disabled test in
# its total and lists it under "did not run"; neither counts as passed here.
summary_line() {
  awk '/tests failed out of/ { failed += $4; total += $NF }
       /^[ \t]+[0-9]+ - .* \(Skipped\)$/ { skipped++ }
       /^[ \t]+[0-9]+ - .* \(Disabled\)$/ { disabled++ }
       END { printf "test: %d passed, %d failed, %d skipped, %d disabled\n",
                    total - failed - skipped - disabled, failed, skipped, disabled }' "$@"
}
