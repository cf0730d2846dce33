# A small static image of sovscan: built against musl on Alpine, run from `scratch` as a
# non-root user. Build and use:
#
#   docker build -t sovscan .
#   docker run --rm -v "$PWD:/src:ro" sovscan scan /src --format sarif > sovscan.sarif
#
# The image is not built by .ci/run (no Docker daemon there); build it where one exists.

FROM rust:1.95-alpine AS build
# C toolchain for the crates with C parts (aws-lc-rs, zlib).
RUN apk add --no-cache musl-dev build-base cmake perl ca-certificates
WORKDIR /build
COPY . .
ENV RUSTFLAGS="-C target-feature=+crt-static" CARGO_TERM_COLOR=never
RUN cargo build --release --locked \
    && strip target/release/sovscan \
    && ! ldd target/release/sovscan 2>/dev/null | grep -q '=>' \
    && target/release/sovscan --version

FROM scratch
# Root certificates for the live sources (`sovscan aws`, `sovscan cluster`).
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /build/target/release/sovscan /sovscan
USER 65532:65532
WORKDIR /src
ENTRYPOINT ["/sovscan"]
CMD ["scan", "."]
