"""Coverage-guided fuzzing of the pure parsers with atheris (libFuzzer), run by hand — not
collected by pytest. Each target must return or raise S3Error; anything else is a crash
(atheris prints the input and writes crash-<sha1>; add it to REGRESSIONS in
tests/unit/test_fuzz_parsers.py).

    pip install atheris
    PYTHONPATH=src python tests/fuzz/atheris_parsers.py --target xml -runs=200000
    PYTHONPATH=src python tests/fuzz/atheris_parsers.py --all --seconds 30   # each target

Without --target/--all it fuzzes every target in turn (-max_total_time per target from
--seconds, default 30).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def fuzz_one(name: str, libfuzzer_args: list[str]) -> None:
    import atheris

    with atheris.instrument_imports():
        import targets

    def one_input(data: bytes) -> None:
        targets.run(name, data)

    if not any(a.startswith("-dict=") for a in libfuzzer_args):
        libfuzzer_args = [f"-dict={HERE / 'parsers.dict'}", *libfuzzer_args]
    corpus = [a for a in libfuzzer_args if not a.startswith("-")]
    if not corpus:  # start from the well-formed seeds (and keep what is found next to them)
        seeds = Path(tempfile.mkdtemp(prefix=f"corpus-{name}-"))
        for i, seed in enumerate(targets.SEEDS.get(name, [])):
            (seeds / f"seed{i}").write_bytes(seed)
        libfuzzer_args = [*libfuzzer_args, str(seeds)]
    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", help="one target name (see --list)")
    ap.add_argument("--all", action="store_true", help="every target, one process each")
    ap.add_argument("--seconds", type=int, default=30, help="time per target with --all")
    ap.add_argument("--list", action="store_true")
    args, rest = ap.parse_known_args()
    if args.list:
        import targets

        print("\n".join(targets.TARGETS))
        return 0
    if args.target:
        fuzz_one(args.target, rest)
        return 0
    import targets

    failed = []
    for name in targets.TARGETS:
        # a fresh process per target: atheris.Fuzz() does not return
        cmd = [sys.executable, __file__, "--target", name,
               f"-max_total_time={args.seconds}", *rest]
        print(f"== {name}", flush=True)
        if subprocess.run(cmd, check=False).returncode != 0:
            failed.append(name)
    print("failed targets:", ", ".join(failed) or "none")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
