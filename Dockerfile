# Small static image of bjpay-sandbox. Build:
#   docker build --build-arg VERSION=v0.1.0 -t bjpay-sandbox .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.buildVersion=${VERSION}" \
      -o /out/bjpay-sandbox ./cmd/bjpay-sandbox

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bjpay-sandbox /usr/local/bin/bjpay-sandbox
EXPOSE 8080
USER nonroot
ENTRYPOINT ["bjpay-sandbox"]
# Inside a container the sandbox must listen on every interface.
CMD ["serve", "--addr", ":8080"]
