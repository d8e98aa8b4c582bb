# The two commands a newcomer needs: `make run` and `make test`.
GO ?= go
export GOTOOLCHAIN ?= auto

.PHONY: run test services build check bench clean

## run: start Postgres and Redis if needed, migrate, seed the demo, serve the OP and the demo app
run: services build
	./scripts/run.sh

## test: start Postgres and Redis if needed, check formatting and vet, run every test with -race
test: services check
	$(GO) test -race -count=1 ./...

## services: make sure Postgres and Redis answer on localhost (installs them on a fresh Debian machine)
services:
	./scripts/services.sh

build:
	$(GO) build -o bin/idp ./cmd/idp
	$(GO) build -o bin/demo-rp ./cmd/demo-rp

## check: gofmt and go vet
check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin .run
