#!/bin/sh
# Validate Prometheus text exposition on stdin: promtool if installed
# (exit 77 = skipped when absent), else nothing.
if ! command -v promtool >/dev/null 2>&1; then
	echo "promtool not installed: skipped (apt-get install prometheus)" >&2
	exit 77
fi
promtool check metrics
