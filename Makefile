# Two commands do all set-up: `make up` (the stack, embedded defaults) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
export TUOYU_KAFKA_JARS_DIR ?= $(CURDIR)/.tuoyu/kafka-jars
export TUOYU_TEMPORAL_SERVER_BIN_DIR ?= $(CURDIR)/.tuoyu/bin

.PHONY: install up broker-deps test fault-matrix cluster temporal-server lint unit integration-tansu-sqlite integration-kafka-postgresql system-deps kafka-jars schemas clean

# apt-get as root, through sudo otherwise.
APT := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || echo sudo apt-get)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

# The default broker is Apache Kafka (what was acknowledged survives a crash): Java and Maven
# from apt when missing, the broker's jars once with Maven, then the stack in the foreground.
# `tuoyu up` prints how long all of it took (MAKE_UP_STARTED). TUOYU_BROKER=tansu skips Java.
up:
	@export MAKE_UP_STARTED=$$(date +%s.%N); \
	$(MAKE) --no-print-directory install broker-deps && exec $(VENV)/bin/tuoyu up

broker-deps: install
	@if [ "$${TUOYU_BROKER:-kafka}" = kafka ]; then \
		if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then \
			$(APT) update -q && DEBIAN_FRONTEND=noninteractive $(APT) install -y -q --no-install-recommends openjdk-17-jre-headless maven; \
		fi; \
		$(PY) -c "from infra.servers import ensure_kafka_jars; from infra.settings import Settings; ensure_kafka_jars(Settings())"; \
	fi

# Debian packages for the tests: PostgreSQL and Java with Maven (the matrix's second leg), sipp
# (sip-tester: plays a GB/T 28181 camera), Chromium with a CJK font (the web pages, through
# Playwright), kcat (a librdkafka client against the default broker).
SYSTEM_PACKAGES := postgresql openjdk-17-jre-headless maven sip-tester chromium chromium-driver fonts-wqy-zenhei kcat
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v mvn >/dev/null || ! command -v java >/dev/null \
		|| ! command -v sipp >/dev/null || ! command -v chromium >/dev/null || ! fc-list | grep -qi "wenquanyi" \
		|| ! command -v kcat >/dev/null; then \
		$(APT) update -q && DEBIAN_FRONTEND=noninteractive $(APT) install -y -q $(SYSTEM_PACKAGES); \
	fi

# Apache Kafka's jars, fetched once with Maven into the cache under the data dir.
kafka-jars: install system-deps
	$(PY) -c "from infra.servers import ensure_kafka_jars; from infra.settings import Settings; print(ensure_kafka_jars(Settings()))"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

schemas: install
	$(VENV)/bin/tuoyu schema export schemas

# The fault matrix alone (tests/test_fault_matrix.py, Apache Kafka + SQLite: every process
# killed in turn under load); the last leg of `make test`.
fault-matrix: install system-deps kafka-jars
	TUOYU_TEST_BROKER=kafka TUOYU_TEST_DATABASE=sqlite $(PY) -m pytest -q tests/test_fault_matrix.py

# The Temporal server and its SQL tool, built once from the Go module (`go install`, GOBIN
# .tuoyu/bin; the toolchain it needs comes through the module proxy), for the cluster leg.
temporal-server: install
	@$(PY) -c "from infra.temporal_server import ensure_server; from infra.settings import Settings; ensure_server(Settings())"

# The production shape (tests/topology.py): three Kafka nodes, the Temporal server on
# PostgreSQL, two stream and two Temporal worker processes; the crash tests and the cluster's
# own faults (a broker, a stream worker, a Temporal worker, the Temporal server killed).
# The last leg of `make test`.
CLUSTER_TESTS := tests/test_cluster_faults.py tests/test_crash.py
CLUSTER_LEG := TUOYU_TEST_TOPOLOGY=cluster TUOYU_TEST_BROKER=kafka TUOYU_TEST_DATABASE=postgresql $(PY) -m pytest -q $(CLUSTER_TESTS)
cluster: install system-deps kafka-jars temporal-server
	@start=$$(date +%s); \
	$(CLUSTER_LEG); \
	rc=$$?; echo "leg cluster: $$(( $$(date +%s) - start ))s"; exit $$rc

# Unit tests and the integration tests on Tansu + SQLite, then the integration tests again on
# Apache Kafka + PostgreSQL: each broker and each database once. Then the fault matrix on the
# default stack (Apache Kafka + SQLite): every process killed in turn under load. Last the
# cluster leg (`make cluster`): the production shape, each of its processes killed.
test: install system-deps kafka-jars temporal-server lint
	@start=$$(date +%s); \
	TUOYU_TEST_BROKER=tansu TUOYU_TEST_DATABASE=sqlite $(PY) -m pytest -q && \
	leg=$$(date +%s) && echo "leg tansu+sqlite: $$(( leg - start ))s" && \
	TUOYU_TEST_BROKER=kafka TUOYU_TEST_DATABASE=postgresql $(PY) -m pytest -q -m "integration or database" && \
	echo "leg kafka+postgresql: $$(( $$(date +%s) - leg ))s" && leg=$$(date +%s) && \
	TUOYU_TEST_BROKER=kafka TUOYU_TEST_DATABASE=sqlite $(PY) -m pytest -q tests/test_fault_matrix.py && \
	echo "leg fault matrix: $$(( $$(date +%s) - leg ))s" && leg=$$(date +%s) && \
	$(CLUSTER_LEG) && \
	echo "leg cluster: $$(( $$(date +%s) - leg ))s" && \
	echo "make test: $$(( $$(date +%s) - start ))s of tests"

clean:
	rm -rf $(VENV) .tuoyu .tuoyu-test
