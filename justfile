# Everyday recipes; each is a thin call of a plain command.

# Run the whole product on the embedded default, with a throwaway PostgreSQL.
demo:
    go run ./cmd/tollgate demo

# Run every test (what CI runs, after gofmt and vet).
test:
    go test ./...

# Benchmarks: projection rebuild, export throughput, and the pgbench harness.
bench:
    go run ./cmd/tollbench

# Fuzz each parser for a while (FUZZTIME=30s by default).
fuzz:
    bash scripts/fuzz.sh

# gofmt and go vet, as CI runs them.
lint:
    test -z "$(gofmt -l $(git ls-files '*.go'))" && go vet ./...
