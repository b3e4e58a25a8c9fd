# The Tollgate image the Helm charts (deploy/helm) run: tollgate, tollctl and toll,
# static, as an unprivileged user. Build: docker build -t ghcr.io/tollgate-db/tollgate:0.1.0 .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags=-s -o /out/ ./cmd/tollgate ./cmd/tollctl ./cmd/toll

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
# tollctl in the pod finds control's local admin identity here.
ENV TOLLGATE_DATA_DIR=/var/lib/tollgate
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/tollgate"]
CMD ["start"]
