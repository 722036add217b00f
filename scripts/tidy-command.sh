#!/usr/bin/env bash
# tidy-command.sh DIR [-diff]: go mod tidy for a command module (cmd/*), whose go.mod has
# no replace lines, because `go install <module>@<version>` refuses a module that has any
# (docs/versioning.md). Its siblings are required at the set's version, which no proxy
# serves before the release is tagged, so the module is tidied in a temporary copy that
# replaces every module of go.work by its directory, as the other modules' go.mod files do.
# With -diff it prints what tidy would change and fails if anything would (make
# tidy-check); without, it writes go.mod and go.sum back (make tidy).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: tidy-command.sh DIR [-diff]}
mode=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -R "$root/$dir/." "$tmp/"
cd "$tmp"
self=$(GOWORK=off go mod edit -json | sed -n 's/^[[:space:]]*"Path": "\(.*\)"$/\1/p' | head -1)
for m in $(cd "$root" && go list -m -f '{{.Path}}={{.Dir}}'); do
	[[ ${m%%=*} == "$self" ]] || GOWORK=off go mod edit -replace="$m"
done
GOWORK=off go mod tidy
for m in $(cd "$root" && go list -m -f '{{.Path}}'); do
	GOWORK=off go mod edit -dropreplace="$m" 2>/dev/null || true
done
if [[ $mode == -diff ]]; then
	diff -u "$root/$dir/go.mod" go.mod && diff -u "$root/$dir/go.sum" go.sum || {
		echo "$dir: go.mod or go.sum is not tidy (make tidy)"
		exit 1
	}
else
	cp go.mod go.sum "$root/$dir/"
fi
