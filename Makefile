# Benchmarks are not part of the test suite: `make bench` runs every bench/bench_*.py
# inside the test services (real keyring), each printing its figures and ratios.
.PHONY: bench
bench:
	@for b in bench/bench_*.py; do echo "== $$b"; scripts/with-test-services .venv/bin/python "$$b" || exit 1; done

# Soak test, outside CI (minutes): 100 random SIGKILLs during import, consent and delete; prints
# `kills: 100, photos: N, lost: 0, duplicated: 0, plaintext leaks: 0`. SEED=n repeats a run.
.PHONY: soak
soak:
	PICSAFE_SOAK_SEED=$(SEED) scripts/with-test-services .venv/bin/python -m tests.reliability.soak
