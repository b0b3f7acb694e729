#!/usr/bin/env bash
# Makes sure Docker has the base image `sam local invoke` runs this template's functions on
# (Runtime provided.al2023, Architectures arm64): public.ecr.aws/lambda/provided:al2023-arm64.
#
#   scripts/lambda-base-image.sh            (needs a running Docker daemon)
#
# 1. The image is already there: nothing to do.
# 2. `docker pull` works (a machine that reaches the registry): pulled, done.
# 3. Otherwise (no registry, as on the CI machines) a stand-in is built locally, as root:
#    a Debian minbase root file system for arm64 (debootstrap from the host's own apt
#    mirror, second stage run under qemu-user-static through binfmt_misc), imported with
#    `docker build --platform linux/arm64` (FROM scratch + ADD) and tagged with the name
#    SAM asks for. SAM then adds its Runtime Interface Emulator on top (a RUN step in an
#    arm64 image, which is why binfmt_misc must stay registered with the F flag). The
#    function's bootstrap needs only glibc, which the stand-in has (Debian 12: glibc 2.36;
#    AL2023: 2.34; cargo-lambda links against an older glibc than either).
# The root file system is kept as target/sam-local/lambda-base-arm64.tar.gz for re-runs.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${LAMBDA_BASE_IMAGE:-public.ecr.aws/lambda/provided:al2023-arm64}
work=target/sam-local
mkdir -p "$work"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base image $IMAGE: present"
  exit 0
fi
if timeout 120 docker pull --platform linux/arm64 "$IMAGE" >/dev/null 2>&1; then
  echo "base image $IMAGE: pulled"
  exit 0
fi
echo "base image $IMAGE: not pullable here, building a Debian minbase stand-in for arm64"
[ "$(id -u)" -eq 0 ] || { echo "building the stand-in needs root (debootstrap, binfmt_misc)" >&2; exit 1; }

need_packages=()
command -v debootstrap >/dev/null || need_packages+=(debootstrap)
[ -e /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] || [ -e /usr/bin/qemu-aarch64-static ] ||
  need_packages+=(qemu-user-static)
command -v update-binfmts >/dev/null || need_packages+=(binfmt-support)
if [ ${#need_packages[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi

# arm64 executables run under qemu: binfmt_misc mounted, qemu-aarch64 registered (Debian's
# registration has the F flag: the interpreter is opened now, so it works in containers too).
[ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
grep -q '^flags:.*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
  { echo "qemu-aarch64 is registered without the F flag; containers cannot use it" >&2; exit 1; }

tarball="$work/lambda-base-arm64.tar.gz"
if [ ! -s "$tarball" ]; then
  # The host's Debian mirror and release, from its own apt configuration.
  mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -v -e security -e '^$' | head -1)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  rootfs="$work/rootfs-arm64"
  rm -rf "$rootfs"
  echo "debootstrap --arch=arm64 --variant=minbase $suite ($mirror)"
  debootstrap --arch=arm64 --variant=minbase --include=ca-certificates "$suite" "$rootfs" "$mirror" \
    > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # What Lambda's images provide and SAM's container expects.
  mkdir -p "$rootfs/var/task" "$rootfs/var/runtime" "$rootfs/opt"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -czf "$tarball.part" . && mv "$tarball.part" "$tarball"
  rm -rf "$rootfs"
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
ln "$tarball" "$context/rootfs.tar.gz" 2>/dev/null || cp "$tarball" "$context/rootfs.tar.gz"
cat > "$context/Dockerfile" <<'DOCKERFILE'
FROM scratch
ADD rootfs.tar.gz /
ENV LANG=C.UTF-8 TZ=:/etc/localtime \
    PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin \
    LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib \
    LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime
WORKDIR /var/task
DOCKERFILE
DOCKER_BUILDKIT=0 docker build --quiet --platform linux/arm64 -t "$IMAGE" "$context" >/dev/null
echo "base image $IMAGE: built locally ($(docker image inspect -f '{{.Architecture}} {{.Size}} bytes' "$IMAGE"))"
