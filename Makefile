# Benchmarks are not part of the test suite: `make bench` runs every bench/bench_*.py
# inside the test services (real keyring), each printing its figures and ratios, then the wall
# time of each and the total (bench/run_all.py; lighter settings for the slow ones unless
# BENCH_FULL=1; BENCH_ONLY=import,scale runs only those).
.PHONY: bench
bench:
	@.venv/bin/python bench/run_all.py

# `make profile`: py-spy profiles of the targets not met (CLI import of the corpus JPEGs,
# in-process import of 12-MP JPEGs, `vault list` at 100,000 photos) in bench/out/profile/.
.PHONY: profile
profile:
	scripts/with-test-services .venv/bin/python bench/profile.py $(ARGS)

# Load test of a 200-PC site, outside CI (docs/deployment-at-scale.md): 8 concurrent senders into
# one Orthanc on a throwaway PostgreSQL; prints throughput and "nothing lost, nothing duplicated".
.PHONY: site-load
site-load:
	scripts/with-test-services .venv/bin/python bench/site_load.py $(ARGS)

# Soak test, outside CI (minutes): 100 random SIGKILLs during import, consent and delete; prints
# `kills: 100, photos: N, lost: 0, duplicated: 0, plaintext leaks: 0`. SEED=n repeats a run.
.PHONY: soak
soak:
	PICSAFE_SOAK_SEED=$(SEED) scripts/with-test-services .venv/bin/python -m tests.reliability.soak

# `make installer`: the one-folder bundle (PyInstaller, installer/picsafe-desktop.spec) in
# dist/picsafe-desktop/ and, on Debian/Ubuntu, dist/picsafe-desktop_<version>_<arch>.deb checked
# by lintian. Builds in its own venv (build/venv) from the locked set (pip --require-hashes).
# `make installer-test`: the slow test that runs the bundle with no Python on PATH (not in CI).
.PHONY: installer installer-bundle installer-test
installer: installer-bundle
	installer/linux/build-deb.sh

installer-bundle:
	scripts/install-system-deps.sh --build
	installer/build-bundle.sh

installer-test: installer
	scripts/setup --test
	PICSAFE_INSTALLER_TEST=1 scripts/with-test-services .venv/bin/python -m pytest tests/installer -q

# `make translations`: refresh the .ts catalogues from the source and compile the translated
# ones to .qm (docs/translating.md). tests/ui/test_translatable.py fails when this is due.
.PHONY: translations
translations:
	scripts/update-translations
