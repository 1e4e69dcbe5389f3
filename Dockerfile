# Container image for cluster schedulers (Kubernetes CronJob, Airflow KubernetesPodOperator, Azure Batch
# container tasks): the image runs the same `sparkreco` command as a local install.
#   docker build -t sparkreco .
#   docker run --rm -v /data:/data sparkreco run --config /data/conf/production.json --as-of 2026-11-29T03:00:00Z
# Not built in this repository's CI: the build machine has no container registry access.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN bash scripts/install.sh /opt/sparkreco

FROM mcr.microsoft.com/dotnet/runtime:10.0
COPY --from=build /opt/sparkreco /opt/sparkreco
ENV PATH=/opt/sparkreco/bin:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1
# Run as an unprivileged user; mount the data lake (inputs and Output:Path) as a volume.
RUN useradd --system --uid 10001 sparkreco
USER sparkreco
WORKDIR /data
ENTRYPOINT ["sparkreco"]
CMD ["--help"]
