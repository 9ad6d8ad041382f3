# Hotline: `make run` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
GO    ?= go

VOSK_DIR := $(CURDIR)/.cache/vosk
export CGO_ENABLED  := 1
export CGO_CPPFLAGS := -I$(CURDIR)/asr/vosk/include
export CGO_LDFLAGS  := -L$(VOSK_DIR)/lib -Wl,-rpath,$(VOSK_DIR)/lib

SETUP_STAMP := .cache/setup.stamp
RUN_ARGS    ?=
TEST_FLAGS  ?= -count=1 -timeout 15m

.PHONY: all setup build run test test-short bench eval fuzz vet clean

all: build

$(SETUP_STAMP): scripts/setup.sh go.mod go.sum
	./scripts/setup.sh
	@mkdir -p $(dir $@) && touch $@

setup: $(SETUP_STAMP)

build: $(SETUP_STAMP)
	$(GO) build -o bin/hotline ./cmd/hotline

run: build
	./bin/hotline serve $(RUN_ARGS)

test: $(SETUP_STAMP)
	$(GO) vet ./...
	$(GO) test $(TEST_FLAGS) ./...

test-short: $(SETUP_STAMP)
	$(GO) test -short -count=1 ./...

# Writes docs/benchmarks.md from measurements taken on this machine.
bench: $(SETUP_STAMP)
	$(GO) run ./cmd/benchmark -out docs/benchmarks.md

# Accuracy on ../shared/eval/dev.jsonl (each tool says so and exits 0 when it is absent).
EVAL_DATA ?= ../shared/eval/dev.jsonl
eval: $(SETUP_STAMP)
	$(GO) run ./cmd/eval -data $(EVAL_DATA)
	$(GO) run ./cmd/evalnlu -data $(EVAL_DATA)

# A short run of every fuzz target (go test -fuzz takes one target at a time).
FUZZTIME ?= 20s
fuzz: $(SETUP_STAMP)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

vet: $(SETUP_STAMP)
	$(GO) vet ./...

clean:
	rm -rf bin .cache/setup.stamp
