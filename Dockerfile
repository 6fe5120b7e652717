# bjpay-sandbox as a small static image that runs as a non-root user.
#
#   docker build --build-arg VERSION=v0.1.0 -t bjpay-sandbox .
#   docker run --rm -p 127.0.0.1:8080:8080 bjpay-sandbox
#
# The demo merchant, docker-compose.yml's demo-merchant service:
#
#   docker build --target demo-merchant -t bjpay-demo-merchant .
#
# cmd/bjpay-sandbox/packaging_test.go runs this file's go build line and
# starts the binary as ENTRYPOINT, ENV and CMD below say, so a change here
# that breaks the image fails `go test`, on machines without Docker too.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Empty: the binary then says "(devel)" with its Go version (the build
# context has no .git, so Go records no revision). Set it for a release.
ARG VERSION=
# Static (no cgo), reproducible paths, stripped, version stamped. The
# cache mount keeps Go's build cache between builds (BuildKit and Buildah,
# so docker and podman): a change recompiles only the packages it touches.
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.buildVersion=${VERSION}" -o /out/ ./cmd/bjpay-sandbox ./cmd/demo-merchant

# distroless/static: CA certificates (for https notify URLs), tzdata and
# /tmp, no shell, no package manager; "nonroot" is uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot AS demo-merchant
COPY --from=build /out/demo-merchant /usr/local/bin/demo-merchant
USER nonroot
EXPOSE 3000
ENTRYPOINT ["demo-merchant"]
CMD ["--addr", ":3000"]

# The default target: the sandbox.
FROM gcr.io/distroless/static-debian12:nonroot AS sandbox
COPY --from=build /out/bjpay-sandbox /usr/local/bin/bjpay-sandbox
USER nonroot
# Every interface inside the container. serve and health both read it, so
# the health check probes wherever serve listens, also when it is changed.
ENV BJPAY_SANDBOX_ADDR=:8080
EXPOSE 8080
# No curl in a distroless image: the binary checks itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["bjpay-sandbox", "health"]
ENTRYPOINT ["bjpay-sandbox"]
CMD ["serve"]
