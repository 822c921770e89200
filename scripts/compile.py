"""Compile openclubs' hot modules with mypyc, in place, when their sources have changed.

Run by scripts/setup.sh. Never fails the set-up: without a working C compiler openclubs
runs as pure Python (about half as fast), and this says so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from openclubs.speedups import COMPILED, SRC, STAMP, compiled_files, source_digest, state


def remove_compiled() -> None:
    for path in compiled_files():
        path.unlink()
    for shared in SRC.glob("*__mypyc*"):
        shared.unlink()
    STAMP.unlink(missing_ok=True)


def main() -> int:
    if state() == "compiled":
        print("compile: the compiled modules are up to date", file=sys.stderr)
        return 0
    remove_compiled()
    if "--pure" in sys.argv:
        print("compile: pure Python (compiled modules removed)", file=sys.stderr)
        return 0
    print(
        f"compile: compiling {len(COMPILED)} modules with mypyc (about a minute)", file=sys.stderr
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypyc", *COMPILED], cwd=SRC, capture_output=True, text=True
    )
    shutil.rmtree(SRC / "build", ignore_errors=True)
    if done.returncode != 0 or len(compiled_files()) != len(COMPILED):
        remove_compiled()
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
        print(f"compile: mypyc failed, openclubs will run as pure Python:\n{tail}", file=sys.stderr)
        return 0
    STAMP.write_text(source_digest() + "\n")
    print("compile: done", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
