# keel: see README.md. `make demo` and `make test` work on a fresh machine.
GO        ?= go
BIN       := bin
KEEL      := $(BIN)/keel
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# The tests that boot VMs under QEMU (TCG: the guest's CPU is emulated) or
# drive moto_server through whole deployments run without the race
# detector: their time goes to QEMU and moto, the race detector would only
# slow the host's side 2 to 10 times on the same 2 cores, and that side's
# code is raced by the unit tests of its packages.
SLOW_TESTS := QEMU|DeployEC2

.PHONY: all build test demo bench lint deps fuzz clean

all: build

# keel, keel's init (static: it is PID 1 of images; keel fuse finds it
# beside keel) and the example app.
build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -o $(KEEL) ./cmd/keel
	CGO_ENABLED=0 $(GO) build -tags nethttpomithttp2 -trimpath -ldflags='-s -w' -o $(BIN)/keel-init ./init
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/hello ./examples/hello

deps:
	@scripts/ensure-deps.sh

# All tests: unit, protocol (aws-sdk-go-v2), AWS CLI v2, boto3, crash and SigV4
# tests. Later issues add the QEMU boots here.
test: deps build
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m -skip '$(SLOW_TESTS)' ./...
	$(GO) test -count=1 -timeout 20m -run '$(SLOW_TESTS)' ./...
	$(GO) test -count=1 -run 'DoesNotAllocate' ./filterpattern/
	$(GO) test -count=1 -run='^$$' -fuzz=FuzzDecodeRequest -fuzztime=15s ./logserver/
	$(GO) test -count=1 -run='^$$' -fuzz=FuzzPutDecodeFast -fuzztime=10s ./logserver/
	$(GO) test -count=1 -run='^$$' -fuzz=FuzzCompile -fuzztime=10s ./filterpattern/
	$(GO) test -count=1 -run='^$$' -fuzz=FuzzParse -fuzztime=10s ./insights/

demo: deps build
	@scripts/demo.sh

bench: deps build
	$(GO) run ./cmd/keel-bench

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: run gofmt -w on the files above'; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecodeRequest -fuzztime=2m ./logserver/

clean:
	rm -rf $(BIN)
