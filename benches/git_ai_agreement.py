#!/usr/bin/env python3
"""Agreement of govops' AI line counts with an independent git-ai note reader.

Usage: benches/git_ai_agreement.py REPO BASE [GOVOPS]

REPO is a clone that holds refs/notes/ai (git-ai's own repository pushes it:
`git fetch origin refs/notes/ai:refs/notes/ai`). The script reads the note
of every commit in BASE..HEAD straight from git, following the published
standard (git-ai-project/git-ai, specs/git_ai_standard_v3.0.0.md), counts
per commit the lines its AI keys (`s_...::t_...` and bare legacy keys, not
`h_` humans) attest in the files the commit changes (`git show
--remerge-diff` for merges), at most the lines it adds to each, and compares
them with `commits[].ai.lines.ai` of `govops check --dump-input`. It shares
no code with govops.
"""

import json
import subprocess
import sys
from collections import Counter


def git(repo, *args, data=None):
    return subprocess.run(
        ["git", "-C", repo, *args], input=data, capture_output=True, check=True
    ).stdout


def blobs(repo, ids):
    out = git(repo, "cat-file", "--batch", data=("\n".join(ids) + "\n").encode())
    i, res = 0, []
    for _ in ids:
        nl = out.index(b"\n", i)
        size = int(out[i:nl].split()[2])
        res.append(out[nl + 1 : nl + 1 + size])
        i = nl + 1 + size + 1
    return res


def additions(repo, sha, merge):
    """Lines added per path by the commit's own change (git's rename detection)."""
    args = ["show", "--format=", "--numstat", "-z", "-M"]
    if merge:
        args.append("--remerge-diff")
    fields = git(repo, *args, sha).split(b"\0")
    added, i = {}, 0
    while i < len(fields):
        head = fields[i]
        if not head.strip():
            i += 1
            continue
        parts = head.lstrip(b"\n").split(b"\t")
        add = 0 if parts[0] == b"-" else int(parts[0])
        if len(parts) == 3 and parts[2]:
            path = parts[2]
            i += 1
        else:  # a rename: the old and the new path follow
            path = fields[i + 2]
            i += 3
        added[path.decode("utf-8", "replace")] = added.get(path.decode("utf-8", "replace"), 0) + add
    return added


def spans_of(text):
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out.append((int(a), int(b or a)))
    return out


def union(spans):
    total, cur = 0, None
    for s, e in sorted(spans):
        if cur and s <= cur[1] + 1:
            cur = (cur[0], max(cur[1], e))
        else:
            if cur:
                total += cur[1] - cur[0] + 1
            cur = (s, e)
    return total + (cur[1] - cur[0] + 1 if cur else 0)


def read_note(body, sha, parents):
    """AI spans per file, or None when the note is not used (version, base)."""
    text = body.decode("utf-8")
    if text.startswith("---\n"):
        att, meta = "", text[4:]
    else:
        att, meta = text.split("\n---\n", 1)
    meta = json.loads(meta)
    if meta.get("schema_version") != "authorship/3.0.0":
        return None
    if meta.get("base_commit_sha") not in [sha, *parents]:
        return None
    files, path = {}, None
    for line in att.split("\n"):
        if not line:
            continue
        if not line.startswith(" "):
            path = line[1:-1] if line.startswith('"') else line
            continue
        key, ranges = line[2:].split(" ", 1)
        if key.startswith("h_"):
            continue
        files.setdefault(path, []).extend(spans_of(ranges))
    return files


def main():
    repo, base = sys.argv[1], sys.argv[2]
    govops = sys.argv[3] if len(sys.argv) > 3 else "govops"
    doc = json.loads(
        subprocess.run(
            [govops, "-C", repo, "check", "--dump-input", "--base", base],
            capture_output=True,
            check=True,
        ).stdout
    )
    theirs = {c["sha"]: c for c in doc["commits"]}
    notes = dict(
        reversed(line.split())
        for line in git(repo, "notes", "--ref=ai", "list").decode().split("\n")
        if line
    )
    shas = [s for s in theirs if s in notes]
    bodies = blobs(repo, [notes[s] for s in shas])
    result, diffs = Counter(), []
    for sha, body in zip(shas, bodies):
        c = theirs[sha]
        files = read_note(body, sha, c["parents"])
        got = (c["ai"].get("lines") or {}).get("ai")
        if files is None:
            result["not used by either" if got is None else "used by govops only"] += 1
            continue
        merge = len(c["parents"]) > 1
        kind = "merges" if merge else "commits"
        added = additions(repo, sha, merge)
        mine = sum(min(union(sp), added[p]) for p, sp in files.items() if p in added)
        if got == mine:
            result[f"{kind} agree"] += 1
        else:
            result[f"{kind} disagree"] += 1
            diffs.append((sha, kind, mine, got))
    print(f"{len(theirs)} commits in range, {len(shas)} with a note: {dict(result)}")
    ours = sum(
        (theirs[s]["ai"].get("lines") or {}).get("ai", 0) for s in shas
    )
    print(f"govops: {ours} AI lines in noted commits; errors: {len(doc['errors'])}")
    for sha, kind, mine, got in diffs[:20]:
        print(f"  {sha[:12]} ({kind}): reader {mine}, govops {got}")


if __name__ == "__main__":
    main()
