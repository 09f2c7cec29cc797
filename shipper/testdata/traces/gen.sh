#!/bin/sh
# Regenerates the captured traces from the programs in src/, with this
# machine's runtimes (JDK 17, CPython 3.11, Go, Node 20): each program's
# stdout goes to NAME.stdout and its stderr to NAME.stderr, untouched. The
# programs run from /tmp/keel-traces so that the paths in the traces do not
# depend on where the repository is. Run from this directory: sh gen.sh
set -u
out=$(pwd)
work=/tmp/keel-traces
rm -rf "$work" && mkdir -p "$work" && cp src/* "$work"/ && cd "$work" || exit 1
run() { # NAME CMD...
	name=$1; shift
	"$@" >"$out/$name.stdout" 2>"$out/$name.stderr"
	echo "$name: exit $?"
}
javac -d . Uncaught.java Caught.java
run java-uncaught java -cp . Uncaught
run java-caught java -cp . Caught
run python-chained python3 uncaught.py
run python-group python3 group.py
run python-syntax python3 syntax.py
for p in panic nilptr deadlock; do
	go build -o "$p" "$p.go"
	run "go-$p" "./$p"
done
run node-uncaught node uncaught.js
run node-props node props.js
run node-rejection node rejection.js
{ java -version 2>&1 | head -1; python3 --version; go version; node --version; } >"$out/VERSIONS"
rm -rf "$work"
# ruby-uncaught.stderr is written by hand in Ruby 3.x's format for an
# uncaught exception (no Ruby on this machine): "FILE:LINE:in `METHOD':
# MESSAGE (CLASS)" and "\tfrom FILE:LINE:in `METHOD'" lines.
