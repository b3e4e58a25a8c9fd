# The Tollgate image the Helm charts (deploy/helm) run: tollgate, tollctl and toll, as an unprivileged
# user. Build: docker build -t ghcr.io/tollgate-db/tollgate:0.1.0 .
# Built with cgo: the statement rules read SQL with PostgreSQL's own parser (libpg_query through
# pg_query_go); the binaries link glibc, hence the distroless base image (glibc, no shell).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags=-s -o /out/ ./cmd/tollgate ./cmd/tollctl ./cmd/toll

FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
# tollctl in the pod finds control's local admin identity here.
ENV TOLLGATE_DATA_DIR=/var/lib/tollgate
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/tollgate"]
CMD ["start"]
