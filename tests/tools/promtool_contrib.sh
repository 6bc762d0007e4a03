#!/bin/sh
# promtool_contrib.sh DIR - contrib/prometheus as Prometheus reads it: the
# example configuration and the rules are valid, and the rules' unit tests
# (uma.rules.test.yml: each alert fires on what it should, after its
# `for`, and not on its look-alikes) pass.  Exit 77 without promtool.
if ! command -v promtool >/dev/null 2>&1; then
	echo "promtool not installed: skipped (apt-get install prometheus)" >&2
	exit 77
fi
cd "$1" || exit 1
promtool check config prometheus.yml &&
    promtool check rules uma.rules.yml &&
    promtool test rules uma.rules.test.yml
