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

# npm ci: exactly the committed lockfile (complete, with every platform's optional Nx binary), which it never rewrites.
npm ci --no-audit --no-fund
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && ! git diff --quiet -- package-lock.json; then
  echo "setup: package-lock.json changed during set-up; a set-up must leave the tree as it found it" >&2
  git --no-pager diff --stat -- package-lock.json >&2
  exit 1
fi
echo "setup: node for tests $(node_modules/.bin/node --version) (machine node $(node --version))"
