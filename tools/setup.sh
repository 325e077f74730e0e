#!/usr/bin/env bash
# Sets up a fresh clone: the OCaml toolchain the tests build with (OCaml, dune, ocamlfind, opam from Debian),
# then the npm dependencies, which include the Node 24 the tests run on.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ocamlfind >/dev/null 2>&1 || need+=(ocaml-findlib)
command -v dune >/dev/null 2>&1 || need+=(dune)
command -v ocamlopt >/dev/null 2>&1 || need+=(ocaml-nox)
command -v opam >/dev/null 2>&1 || need+=(opam)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
# OCaml libraries the end-to-end suite's generated unikernels use (lwt, logs, duration, cmdliner).
for lib in liblwt-ocaml-dev liblogs-ocaml-dev libduration-ocaml-dev libcmdliner-ocaml-dev; do
  dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "setup: missing ${need[*]}; install them as root: apt-get install -y ${need[*]}" >&2; exit 1
  fi
  echo "setup: installing ${need[*]} from Debian"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
echo "setup: ocaml $(ocamlfind ocamlopt -version), dune $(dune --version), opam $(opam --version)"

# npm install, not npm ci: this registry lacks the optional Nx binaries of other platforms, so the lockfile cannot list
# them and npm ci refuses it; npm install keeps the locked versions and skips what is missing.
npm install --no-audit --no-fund
echo "setup: node for tests $(node_modules/.bin/node --version) (machine node $(node --version))"
