#!/bin/sh
# OpenVPN `up` hook: in the client config add
#   script-security 2
#   up /etc/openvpn/fwmark-up.sh
# A route through the VPN device vanishes with the device; this puts fwmark's back once the tunnel is up.
# Without FWMARK_CONF_DIR, reconcile reads the conf dir `fwmark install` recorded (k3s: /var/lib/rancher/k3s/agent/etc/cni/net.d).
exec /usr/local/bin/fwmark reconcile ${FWMARK_CONF_DIR:+--conf-dir "$FWMARK_CONF_DIR"}
