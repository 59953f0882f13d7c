#!/bin/sh
# Regenerates the contract artifacts in this folder (Hardhat's artifact
# format: contractName, abi, bytecode, deployedBytecode) from contracts/*.sol
# with solcjs and OpenZeppelin Contracts 5, and copies Safe's own compiled
# artifacts (Safe, SafeProxy) from @safe-global/safe-smart-account unchanged.
# Needs node and npm; the tests only read the committed JSON files.
#
#   plugins/contract/testdata/build.sh
#
# SOLC_BUILD_DIR keeps the npm packages between runs (default: a temporary folder).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${SOLC_BUILD_DIR:-}
if [ -z "$work" ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi
npm install --prefix "$work" --no-save --no-audit --no-fund --loglevel=error \
	solc@0.8.30 @openzeppelin/contracts@5.7.0 @safe-global/safe-smart-account@1.5.0 >/dev/null
node "$here/build.js" "$here" "$work/node_modules"
