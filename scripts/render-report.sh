#!/usr/bin/env bash
# Renders the HTML audit report of examples/hamburg-gymnasium and looks at it in headless
# Chromium: OUT/report.html, OUT/report.png (the screen layout, 1280 px wide) and
# OUT/report.pdf (the print layout), plus OUT/report-print-N.png per printed page when
# pdftoppm (poppler-utils) is installed.
#
# It also checks that the page is self-contained: the HTML must hold no reference to anything
# outside itself (the only URLs allowed are documentation links of policies, as <a href>), and
# Chromium, with name resolution switched off, must not have asked for any network resource
# while loading it (checked in Chromium's network log).
#
# Usage: scripts/render-report.sh [KONFORM_BINARY] [OUT_DIR]
#   KONFORM_BINARY  default: target/debug/konform (build it first: cargo build)
#   OUT_DIR         default: /tmp/konform-report
# Environment:
#   CHROMIUM        the browser to use (default: chromium, chromium-browser or google-chrome)
#   SHOT_HEIGHT     height of the screenshot in pixels (default 4000: the top of the page)
#   REDACT=1        render the report with --redact
#
# Builds nothing and installs nothing. Exits non-zero when konform fails (exit code 2 or
# other), when Chromium is missing or fails, or when the page refers to or loads anything
# from outside.

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
konform=${1:-target/debug/konform}
out=${2:-/tmp/konform-report}
height=${SHOT_HEIGHT:-4000}

fail() {
    echo "render-report: $*" >&2
    exit 1
}

cd "$root"
[[ -x $konform ]] || fail "no konform binary at '$konform' (build it with 'cargo build', or pass its path)"
[[ $height =~ ^[0-9]+$ ]] || fail "SHOT_HEIGHT must be a number of pixels, not '$height'"

browser=${CHROMIUM:-}
if [[ -z $browser ]]; then
    for candidate in chromium chromium-browser google-chrome; do
        if command -v "$candidate" >/dev/null 2>&1; then
            browser=$candidate
            break
        fi
    done
fi
[[ -n $browser ]] && command -v "$browser" >/dev/null 2>&1 ||
    fail "Chromium is not installed (install it, e.g. 'apt-get install chromium', or set CHROMIUM=/path/to/chrome)"

mkdir -p "$out"
out=$(cd "$out" && pwd)
html="$out/report.html"

# 1. The report. Exit code 1 means findings, which this example has; 2 means konform could not
# check everything.
redact=()
[[ ${REDACT:-0} == 1 ]] && redact=(--redact)
set +e
"$konform" check examples/hamburg-gymnasium --format html --today 2026-11-22 "${redact[@]}" >"$html"
code=$?
set -e
case $code in
    0 | 1) ;;
    *) fail "konform check failed with exit code $code" ;;
esac
[[ -s $html ]] || fail "konform wrote no HTML"
grep -q '</html>' "$html" || fail "the HTML in $html is incomplete"
echo "render-report: wrote $html ($(wc -c <"$html") bytes, konform exit code $code)"

# 2. Static check: no reference to anything outside the page. Values from the report are
# escaped (no `<` or `"` of theirs reaches the markup), so markup patterns are safe to look for.
# Policy documentation links (<a href="https://…">) are links the reader may follow, not
# resources; they are allowed, as are links to anchors in the page (href="#…").
problems=$(
    grep -n -i -o -E \
        '<(script|link|img|iframe|frame|object|embed|audio|video|source|track|base|image|use|form|input|meta http-equiv="refresh")[ >/]|(src|srcset|data|poster|action|formaction|background|xlink:href|ping)="' \
        "$html" || true
)
css=$(sed -n '/<style>/,/<\/style>/p' "$html")
if grep -q -i -E '@import|url\(|://' <<<"$css"; then
    problems+=$'\n'"the style sheet refers to something outside the page"
fi
count() { { grep -o -E "$1" "$html" || true; } | wc -l; }
hrefs=$(count 'href="[^"]*"')
internal=$(count 'href="#[^"]*"')
links=$(count '<a href="https?://[^"]*"')
if ((hrefs != internal + links)); then
    problems+=$'\n'"href to something other than an anchor in the page or a web link on <a>:"
    problems+=$'\n'$(grep -o -E '<[a-zA-Z]+ [^>]*href="[^"#][^"]*"' "$html" | grep -v -E '^<a href="https?://' || true)
fi
problems=$(sed '/^$/d' <<<"$problems")
if [[ -n $problems ]]; then
    echo "render-report: the page refers to resources outside itself:" >&2
    echo "$problems" >&2
    exit 1
fi
echo "render-report: no references to resources outside the page ($links documentation link(s))"

# 3. Render. Name resolution is switched off, so nothing can leave the machine; the network
# log shows whether the page asked for anything all the same.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
netlog="$out/netlog.json"
chrome() {
    "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-extensions --hide-scrollbars --mute-audio \
        --host-resolver-rules='MAP * ~NOTFOUND' \
        --user-data-dir="$profile" "$@" "file://$html" >"$out/chromium.log" 2>&1 ||
        fail "Chromium failed, see $out/chromium.log"
}
rm -f "$out/report.png" "$out/report.pdf" "$out"/report-print-*.png "$netlog"
chrome --log-net-log="$netlog" --window-size="1280,$height" --screenshot="$out/report.png"
chrome --no-pdf-header-footer --print-to-pdf="$out/report.pdf"
[[ -s $out/report.png ]] || fail "Chromium wrote no screenshot"
[[ -s $out/report.pdf ]] || fail "Chromium wrote no PDF"
[[ -s $netlog ]] || fail "Chromium wrote no network log"

# Requests made for the page carry the file:// page as their network isolation key; the
# browser's own background requests (if any) do not.
loaded=$(grep '"network_isolation_key":"file://' "$netlog" |
    grep -o -E '"url":"[a-zA-Z][a-zA-Z0-9+.-]*:[^"]*"' |
    grep -v -E '"url":"(file|data|about|chrome|blob):' | sort -u || true)
if [[ -n $loaded ]]; then
    echo "render-report: the page asked for network resources:" >&2
    echo "$loaded" >&2
    exit 1
fi
echo "render-report: no network resources requested (network log: $netlog)"

# 4. The printed pages as images, for looking at them.
if command -v pdftoppm >/dev/null 2>&1; then
    pdftoppm -png -r 60 "$out/report.pdf" "$out/report-print"
    echo "render-report: wrote $(ls "$out"/report-print-*.png | wc -l) printed page(s) as $out/report-print-N.png"
else
    echo "render-report: pdftoppm (poppler-utils) not found; no PNG of the printed pages"
fi
echo "render-report: wrote $out/report.png and $out/report.pdf"
