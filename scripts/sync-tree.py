"""Mirror the checkout's files into the ansible-test collection tree.

ansible-test needs the collection under ansible_collections/<ns>/<name>/ as
real files. This copies what git tracks plus new files git does not ignore,
and removes from the copy what is gone from the checkout (ansible-test's own
output under tests/output is kept), so the copy is exactly the checkout.
Usage: python sync-tree.py SOURCE DESTINATION
"""

import filecmp
import os
import shutil
import subprocess
import sys

# ansible-test's output and the copy's own git repository stay.
KEEP = ("tests/output", ".git")


def listed_files(source):
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=source, check=True, capture_output=True,
    ).stdout.decode()
    return {path for path in out.split("\0") if path and os.path.isfile(os.path.join(source, path))}


def main(source, destination):
    wanted = listed_files(source)
    for path in sorted(wanted):
        src, dst = os.path.join(source, path), os.path.join(destination, path)
        if os.path.exists(dst) and filecmp.cmp(src, dst, shallow=False):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
    for folder, dirs, files in os.walk(destination, topdown=True):
        rel_folder = os.path.relpath(folder, destination)
        dirs[:] = [d for d in dirs if os.path.normpath(os.path.join(rel_folder, d)) not in KEEP]
        for name in files:
            rel = os.path.normpath(os.path.join(rel_folder, name))
            if rel not in wanted:
                os.remove(os.path.join(folder, name))
    # ansible-test lists a collection's files with git, from the nearest .git
    # upwards: give the copy its own (empty) repository so the checkout's
    # .gitignore, which ignores build/, does not hide every file.
    if not os.path.isdir(os.path.join(destination, ".git")):
        subprocess.run(["git", "init", "--quiet", destination], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
