# Documentation check: every requirement id a test cites is in docs/requirements.md; every
# relative link in README.md, CHANGELOG.md, docs/ and include/webmessaging.h resolves (file and
# #anchor); nothing points outside the repository; the wire-format examples match the golden
# vectors. `--self-test` also plants each kind of defect in a scratch copy and fails unless the
# check catches it; `--code` holds the comments in the code to the same rule (nothing points
# outside the repository). `check_core_layers.py` fails on any import cycle among the core's
# files (and, with `--self-test`, unless a planted one is caught). Needs only python3.

.PHONY: test-docs
TEST_TARGETS += test-docs

test-docs:
	@command -v python3 >/dev/null || { echo "test-docs: python3 is required" >&2; exit 1; }
	python3 tests/docs/check_docs.py --self-test
	python3 tests/docs/check_docs.py --code
	python3 tests/docs/check_core_layers.py --self-test
