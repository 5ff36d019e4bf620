# KdData: one image with both hosts (Labeler and Trainer); the job chooses which to run.
#   docker build -t kddata .
#   docker run --rm kddata                              # Labeler (default command)
#   docker run --rm kddata kddata-trainer.dll distill   # Trainer: distil / teacher / import / evaluate (ENTRYPOINT is dotnet)
# The .NET 10 images are Ubuntu 24.04 based: its libstdc++ has GLIBCXX_3.4.32, so the build's
# TorchSharp patch (build/torchsharp-glibcxx) detects that and does nothing.
# CUDA: build with --build-arg TORCH_BACKEND=cuda on a registry that serves TorchSharp-cuda-linux,
# and swap the runtime stage's base for a CUDA one (the dotnet/runtime image is CPU-only), run with the
# NVIDIA container runtime; Torch__Device=auto picks the GPU.
ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}-noble AS build
ARG TORCH_BACKEND=cpu
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props KdData.sln appsettings.json ./
COPY build/ build/
COPY presets/ presets/
COPY src/ src/
# A RID-specific, framework-dependent publish keeps only linux-x64 natives (LibTorch is ~600 MB).
RUN dotnet publish src/Labeler -c Release -r linux-x64 --self-contained false -p:TorchBackend=${TORCH_BACKEND} -o /app \
 && dotnet publish src/Trainer -c Release -r linux-x64 --self-contained false -p:TorchBackend=${TORCH_BACKEND} -o /app

FROM mcr.microsoft.com/dotnet/runtime:${DOTNET_VERSION}-noble
WORKDIR /app
COPY --from=build /app ./
COPY samples/ samples/
# Relative locations (file:samples/..., file:out/...) resolve against the working directory.
ENV DOTNET_ENVIRONMENT=Production \
    Logging__Console__FormatterName=json
USER $APP_UID
ENTRYPOINT ["dotnet"]
CMD ["kddata-labeler.dll"]
