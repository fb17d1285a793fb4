# Two commands do all set-up: `make run` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# Starts holdemd on the built-in quickstart config in a private folder and attaches holdem-tui;
# without a terminal it prints progress lines and returns when the run is done.
run: $(STAMP)
	$(BIN)/python -m supervisor.quickstart

# systemd-analyze verifies the unit file in the tests, and the Slurm executor's tests start a private
# single-node cluster (tests/supervisor/slurm_cluster.py); install them where they are missing.
SLURM_PKGS := slurmctld slurmd slurm-client munge
# Tests run side by side on this many pytest-xdist workers: most wait on processes they start, so more
# workers than cores (tests/conftest.py says how the tests are spread).
TEST_WORKERS ?= 4
test: $(STAMP)
	@command -v systemd-analyze >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null) \
	      || echo "could not install systemd; its unit test will be skipped"; \
	  fi; }
	@{ command -v srun && command -v scancel && test -x /usr/sbin/slurmctld && test -x /usr/sbin/slurmd \
	   && test -x /usr/sbin/munged; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SLURM_PKGS) >/dev/null) \
	      || echo "could not install $(SLURM_PKGS); the Slurm executor's tests will be skipped"; \
	  else echo "Slurm is not installed and this is not root with apt-get; the Slurm tests will be skipped"; fi; }
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

# Lint, format and types: what `make test` checks first (and CI with it).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/solver_speed.py

clean:
	rm -rf $(VENV) .pytest_cache
