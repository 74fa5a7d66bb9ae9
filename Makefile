# Benchmarks are not part of the test suite: `make bench` runs every bench/bench_*.py
# inside the test services (real keyring), each printing its figures and ratios.
.PHONY: bench
bench:
	@for b in bench/bench_*.py; do echo "== $$b"; scripts/with-test-services .venv/bin/python "$$b" || exit 1; done
