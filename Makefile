# Sandbox: build, images, run, test, bench. `make run` and `make test` are the two set-up commands.
SHELL := /bin/bash
.DEFAULT_GOAL := build
CONFIG ?= Release
ARTIFACTS := artifacts
CLI := $(ARTIFACTS)/sandbox/sandbox
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

.PHONY: build images guests run cluster cluster-stop examples test test-unit test-integration bench bench-runtimes bench-wasm bench-cluster bench-cpu doctor clean

## build: publish the CLI to artifacts/sandbox/sandbox (with the default profiles, and built Wasm guests, beside it)
# ReadyToRun: every WebAssembly run starts a fresh worker process, and precompiled code spares each one about 200 ms
# of CPU spent JIT-compiling the engine (measured on python-wasm hello: 720 -> 490 ms of worker CPU).
build:
	dotnet publish src/Sandbox.Cli/Sandbox.Cli.csproj -c $(CONFIG) -o $(ARTIFACTS)/sandbox -r linux-x64 --self-contained false -p:PublishReadyToRun=true --nologo -v quiet
	rm -rf $(ARTIFACTS)/sandbox/profiles && mkdir -p $(ARTIFACTS)/sandbox/profiles
	# Each profile keeps its folder so a WebAssembly guest's module and preopens stay beside it (when built).
	for d in images/*/; do n=$$(basename $$d); [ -f $$d/profile.json ] || continue; \
	  mkdir -p $(ARTIFACTS)/sandbox/profiles/$$n && cp $$d/profile.json $(ARTIFACTS)/sandbox/profiles/$$n/; \
	  if [ -d $$d/build/out ] && [ ! -f $$d/Dockerfile ]; then mkdir -p $(ARTIFACTS)/sandbox/profiles/$$n/build && cp -r $$d/build/out $(ARTIFACTS)/sandbox/profiles/$$n/build/; fi; \
	  if [ -f $$d/build/packages.json ]; then mkdir -p $(ARTIFACTS)/sandbox/profiles/$$n/build && cp $$d/build/packages.json $(ARTIFACTS)/sandbox/profiles/$$n/build/; fi; done

## images: the debootstrap'd base image and one image per language (cached: a second run takes seconds)
images:
	bash images/build.sh

## guests: CPython and QuickJS for wasm32-wasi from Debian/npm sources (cached: a second run takes a second)
guests:
	bash images/wasm-guests.sh

## run: start Docker if needed, build the images and guests (cached), then serve HTTP on 127.0.0.1:8080; Ctrl-C drains and stops
run:
	bash eng/docker-up.sh
	$(MAKE) --no-print-directory images guests build
	$(CLI) serve

## cluster: PostgreSQL, three `sandbox serve` nodes on it and nginx in front, all on loopback, from nothing (state in artifacts/cluster); prints the URL
cluster:
	bash eng/docker-up.sh
	$(MAKE) --no-print-directory images guests build
	bash eng/cluster.sh start

## cluster-stop: stops make cluster's nginx, nodes (they drain) and PostgreSQL
cluster-stop:
	bash eng/cluster.sh stop

## examples: run a few example programs through the CLI
examples: build
	bash eng/run-examples.sh

## test: unit tests, then integration tests against the real daemon; ends with "N passed, N failed, N skipped"
test:
	bash eng/test.sh

test-unit:
	bash eng/test.sh unit

test-integration:
	bash eng/test.sh integration

## bench: N Python hello-world runs through our backend and through `docker run --rm` with the same hardening
bench: build
	bash eng/bench.sh

## bench-runtimes: python hello through our backend under runc, crun and runsc: sequential p50/p99 and runs/s at concurrency 8 (the machine's container rate)
bench-runtimes: build
	bash eng/bench-runtimes.sh

## bench-wasm: C kernels and CPython under our Wasm engine and under Node's V8, with the ratio ours/node
# Published ReadyToRun like make build's worker, and run with a worker's runtime settings (the bench applies them itself):
# JIT-compiled, the interpreter's dispatch method is too large to optimise and runs MinOpts code, about 1.8x slower.
# BENCH_WASM_ARGS go to the bench (e.g. "5 warmup=10 only=CPython nonode").
bench-wasm: guests
	dotnet publish bench/Sandbox.Bench.Wasm/Sandbox.Bench.Wasm.csproj -c $(CONFIG) -o $(ARTIFACTS)/bench-wasm -r linux-x64 --self-contained false -p:PublishReadyToRun=true --nologo -v quiet
	dotnet $(ARTIFACTS)/bench-wasm/Sandbox.Bench.Wasm.dll $(BENCH_WASM_ARGS)

## bench-api: `sandbox serve` (Docker warm, cold, python-wasm, a session) under load from a separate client at concurrency 1 (back to back and paced) and 8: runs/s, p50/p99, ok/429/errors, pool hits/misses
bench-api: build
	bash eng/bench-api.sh

## bench-cpu: where concurrency 8's CPU goes per run (dockerd, containerd, shims and runtime, containers, service, client), Docker warm against the create+start+remove floor (root, cgroup v1)
bench-cpu: build
	bash eng/bench-cpu.sh

## bench-cluster: make cluster's cluster at 1, 2 and 3 nodes through nginx (python hello, fixed concurrency): runs/s, p50/p99 and the database's ms per run
bench-cluster: build
	bash eng/bench-cluster.sh

doctor: build
	$(CLI) doctor

clean:
	rm -rf $(ARTIFACTS)
