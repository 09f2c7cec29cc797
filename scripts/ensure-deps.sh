#!/usr/bin/env bash
# ensure-deps.sh: install what keel's tests and demo need on a fresh Debian
# machine, from Debian's packages only. Idempotent: installs only what is missing.
set -euo pipefail

need=()
[ -x /usr/bin/aws ] || need+=(awscli)   # the AWS CLI v2 the tests drive
[ -x /usr/bin/cpio ] || need+=(cpio)     # an independent reader of the initramfs archives
command -v zstd >/dev/null || need+=(zstd)   # an independent decompressor of them
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)   # the QEMU boot tests
[ -f /usr/share/ovmf/OVMF.fd ] || need+=(ovmf)        # UEFI firmware: boot tests of the disk images
command -v qemu-img >/dev/null || need+=(qemu-utils)  # an independent check of the VMDK and VDI writers
command -v fsck.fat >/dev/null || need+=(dosfstools)  # an independent check of the ESP's FAT32
command -v sgdisk >/dev/null || need+=(gdisk)         # an independent check of the GPT
command -v mksquashfs >/dev/null || need+=(squashfs-tools) # writes the app disk (squashfs, zstd): keel fuse needs it for large apps
command -v gcc >/dev/null || need+=(gcc)              # builds dynamic test programs (RPATH, RUNPATH) for the library search
command -v unshare >/dev/null && command -v setpriv >/dev/null || need+=(util-linux)  # the container and DHCP namespace tests
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "ensure-deps: installing ${need[*]} with apt-get" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y --no-install-recommends "${need[@]}" >/tmp/keel-apt.log 2>&1; then
  $sudo apt-get update >>/tmp/keel-apt.log 2>&1
  $sudo apt-get install -y --no-install-recommends "${need[@]}" >>/tmp/keel-apt.log 2>&1 || {
    echo "ensure-deps: apt-get install ${need[*]} failed; see /tmp/keel-apt.log" >&2
    exit 1
  }
fi
