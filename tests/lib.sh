# tests/lib.sh - sourced by the end-to-end scripts, after they set PIQPLAN.
#
# Under a checker (PIQPLAN_WRAPPER, a command prefix such as "valgrind -q
# --error-exitcode=99"; `meson test --setup=valgrind` sets it), PIQPLAN is
# pointed at a one-line script beside the binary that runs it through the
# checker, so every piqplan the test starts is checked.
if [ -n "${PIQPLAN_WRAPPER:-}" ]; then
	pq_wrap="$(cd "$(dirname "$PIQPLAN")" && pwd)/.wrapped-$(basename "$0" .sh)"
	printf '#!/usr/bin/env bash\nexec %s %q "$@"\n' "$PIQPLAN_WRAPPER" "$PIQPLAN" >"$pq_wrap.tmp" &&
		chmod +x "$pq_wrap.tmp" && mv "$pq_wrap.tmp" "$pq_wrap" && PIQPLAN=$pq_wrap
fi
