# The two commands a newcomer needs: `make run` and `make test`.
GO ?= go
export GOTOOLCHAIN ?= auto

.PHONY: run test services toolchain browser build check bench clean guide

## run: start Postgres and Redis if needed, migrate, seed the demo, serve the OP and the demo app
run: services build
	./scripts/run.sh

## test: start Postgres and Redis if needed, check formatting and vet, run every test with -race
## (which needs cgo: CGO_ENABLED=1 whatever the environment says), the browser tests in Chromium included.
## The provider's package (cmd/idp) runs its hundreds of journeys for several minutes on two cores: more
## than go test's default 10-minute limit when the machine is busy, so the limit is raised.
test: services toolchain browser check
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 40m ./...

## guide: make the guide's screenshots again (templates/static/guide/LANG/*.jpg) and their manifest
## (templates/guide/shots.json), from the demo world in Chromium, in each language. `make test` runs
## the same steps (TestGuideShots) and fails, naming the shot, when a page no longer matches its screenshot.
guide: services browser
	$(GO) test -count=1 -run '^TestGuideShots$$' ./cmd/idp -guide.write -v

## services: make sure Postgres and Redis answer on localhost (installs them on a fresh Debian machine)
services:
	./scripts/services.sh

## toolchain: check the Go version and make sure a C compiler is there for -race (installs gcc on a fresh Debian machine)
toolchain:
	./scripts/toolchain.sh

## browser: make sure a Chromium is there for the browser tests (installs Debian's chromium on a fresh machine)
browser:
	./scripts/browser.sh

## build: compile bin/idp (the server and the operator commands) and bin/demo-rp
build:
	$(GO) build -o bin/idp ./cmd/idp
	$(GO) build -o bin/demo-rp ./cmd/demo-rp

## check: gofmt and go vet
check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## bench: start a provider on a free port (database idp_bench, a fresh Redis prefix), run every
## load scenario beside its hardware bound, print the table, write .run/bench.json (a few minutes);
## then the storage benchmarks (the department API's assignments listing of a freshly onboarded
## entity before any ANALYZE, and of 5,000 logins analysed; a page of the sign-in history of a login
## and of an entity among 1,000,000 events), written to .run/bench-storage.txt.
## Pass flags with BENCH_FLAGS, e.g. make bench BENCH_FLAGS="-scenario login -d 30s -cpuprofile .run/prof"
BENCH_FLAGS ?=
bench: services build
	$(GO) build -o bin/idp-bench ./cmd/idp-bench
	./bin/idp-bench -server bin/idp -json .run/bench.json $(BENCH_FLAGS)
	mkdir -p .run
	$(GO) test -run '^$$' -bench 'ServiceAssignments|SignInHistory' -benchtime 200x ./storage/postgres/ >.run/bench-storage.txt; \
	status=$$?; cat .run/bench-storage.txt; exit $$status

clean:
	rm -rf bin .run
