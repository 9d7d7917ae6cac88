"""Patches the pinned firebase-tools so the Functions emulator behaves as deployed functions do.

Run by ``emulator/install`` after ``npm ci``; idempotent (a patched file is left alone) and loud: a
file that is neither the pinned original nor patched stops the install (firebase-tools changed:
check the patch against the new version, see docs/EMULATORS.md).

The patch: the emulator's proxy (``lib/emulator/functionsRuntimeWorker.js``) pipes a function's
response to the client but never ends its request to the function when the client leaves, so a
streaming function (``chatEvents``) never sees the disconnect and runs to its time limit, holding
a runtime thread, two Firestore listeners and the user's stream slot. Deployed, the closed
connection reaches the function at once. The patched proxy ends the request to the function when
its client goes away before the response finished.

Standard library only: ``python3 emulator/patch_firebase_tools.py [node_modules]``.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

MARKER = "firebase-ai-chat: emulator/patch_firebase_tools.py"


@dataclass(frozen=True)
class Patch:
    """A text inserted after an anchor line of one file of the pinned version."""

    path: str
    original_sha256: str
    anchor: str
    insert: str


CLIENT_GONE = Patch(
    path="firebase-tools/lib/emulator/functionsRuntimeWorker.js",
    original_sha256="9e6963e55e9b4f9d5dd99ab7d9e3ef635b406560540447914463ce1e3ccd6e18",
    anchor='                piped.on("finish", () => finishReq("finish"));\n',
    insert=(
        f"                // {MARKER}: a client that leaves ends the function's request too\n"
        "                const cancel = () => { if (!resp.writableFinished) { proxy.destroy(); } };\n"
        '                if (resp.destroyed) { cancel(); } else { resp.on("close", cancel); }\n'
    ),
)


def apply(patch: Patch, node_modules: Path) -> str | None:
    """Applies ``patch``; what was done, in words (``None``: nothing to do). ``SystemExit`` when the file
    is not the pinned one."""
    path = node_modules / patch.path
    text = path.read_text()
    if MARKER in text:
        return None
    if hashlib.sha256(text.encode()).hexdigest() != patch.original_sha256 or text.count(patch.anchor) != 1:
        raise SystemExit(
            f"emulator/install: {path} is not the firebase-tools file this patch was written for "
            "(firebase-tools changed?): see emulator/patch_firebase_tools.py and docs/EMULATORS.md"
        )
    path.write_text(text.replace(patch.anchor, patch.anchor + patch.insert))
    return f"{patch.path}: patched ({MARKER})"


def main() -> None:
    node_modules = Path(sys.argv[1] if len(sys.argv) > 1 else "node_modules")
    for patch in (CLIENT_GONE,):
        done = apply(patch, node_modules)
        if done:
            print(f"emulator/install: {done}", file=sys.stderr)


if __name__ == "__main__":
    main()
