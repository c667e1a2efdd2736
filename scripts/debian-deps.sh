#!/bin/sh
# Installs the Debian packages vigil needs when they are missing (apt-get, as root or through sudo).
#   python3-venv python3-dev g++ : the virtual environment and the pdqhash C++ extension
#   hashdeep wrk                 : the peers `make bench` uses (hashdeep for the scan, wrk drives the API)
#   postgresql                   : a throwaway test cluster when no server answers on 127.0.0.1:5432
#   zip                          : tests build encrypted zip archives with it
#   e2fsprogs dosfstools mtools fdisk ntfs-3g exfatprogs ewf-tools : tests build real disk images
#                                  (mkfs.*, debugfs, mcopy/mdel, sfdisk, ntfscp, ewfacquire)
#   chromium fonts-dejavu-core   : the review app's end-to-end tests drive Debian's chromium through
#                                  Playwright (never `playwright install`); DejaVu renders the pages
set -e
PKGS="python3-venv python3-dev g++ hashdeep wrk postgresql zip e2fsprogs dosfstools mtools fdisk ntfs-3g exfatprogs ewf-tools chromium fonts-dejavu-core"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "vigil: installing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "vigil: need root (or sudo) to install:$missing" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
