"""Build the collection tarball and run galaxy-importer on it; fail on any warning.

galaxy-importer reports its findings (ansible-doc problems, ansible-lint
results, ignore files, missing execution-environment files) as warnings and
still exits 0; Automation Hub shows them to users, so we treat them as errors.
Usage: python scripts/galaxy-import.py OUTPUT_DIR
"""

import glob
import json
import os
import subprocess
import sys


def main(output_dir):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.makedirs(output_dir, exist_ok=True)
    for old in glob.glob(os.path.join(output_dir, "*.tar.gz")):
        os.remove(old)
    bindir = os.path.dirname(sys.executable)
    subprocess.run([os.path.join(bindir, "ansible-galaxy"), "collection", "build", "--force", "--output-path", output_dir, root],
                   check=True, cwd=root)
    tarball = glob.glob(os.path.join(output_dir, "*.tar.gz"))[0]
    env = dict(os.environ, GALAXY_IMPORTER_CONFIG=os.path.join(root, "tests", "galaxy-importer.cfg"))
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    proc = subprocess.run([sys.executable, "-m", "galaxy_importer.main", "--print-result", tarball],
                          capture_output=True, text=True, env=env, cwd=output_dir, check=False)
    sys.stdout.write(proc.stderr)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout)
        print("galaxy-importer failed (exit %d)" % proc.returncode)
        return 1
    # The log comes first on stdout, then the JSON result.
    text = proc.stdout
    start = text.index("\n{") + 1 if not text.startswith("{") else 0
    log_lines, result = text[:start].splitlines(), json.loads(text[start:])
    sys.stdout.write(text[:start])
    warned = [line for line in log_lines if line.startswith(("WARNING", "ERROR"))]
    if warned:
        print("galaxy-importer reported %d warning(s):" % len(warned))
        for line in warned:
            print("  " + line)
        return 1
    print("galaxy-importer: %s %s imported with no warnings" % (result["metadata"]["namespace"], result["metadata"]["name"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
