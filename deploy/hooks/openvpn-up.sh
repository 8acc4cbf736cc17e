#!/bin/sh
# OpenVPN `up` hook: in the client config add
#   script-security 2
#   up /etc/openvpn/fwmark-up.sh
# A route through the VPN device vanishes with the device; this puts fwmark's back once the tunnel is up.
# FWMARK_CONF_DIR: /etc/cni/net.d (podman, containerd) or /var/lib/rancher/k3s/agent/etc/cni/net.d (k3s).
exec /usr/local/bin/fwmark reconcile --conf-dir "${FWMARK_CONF_DIR:-/etc/cni/net.d}"
