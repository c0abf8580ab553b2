# The production worker: no embedded dev server (-tags nodev keeps the
# Temporal server and UI out of the binary); it connects to the cluster
# named by TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (TLS and API key through
# the standard TEMPORAL_* variables).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -tags nodev -o /out/worker ./worker && \
    CGO_ENABLED=0 go build -trimpath -tags nodev -o /out/starter ./starter && \
    CGO_ENABLED=0 go build -trimpath -tags nodev -o /out/starter-full ./starter/starter-full

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/worker /out/starter /out/starter-full /usr/local/bin/
ENV LIVESYNC_STORE=file:///data/store
VOLUME /data
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/worker", "-log-format", "json", "-metrics-addr", "0.0.0.0:9090"]
