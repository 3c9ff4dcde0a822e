"""``pwsim-app``: serve the workshop app (``sim/app.py``) with Solara, offline, on 127.0.0.1.

Solara's JS/CSS come from the installed ``solara-assets`` (no CDN) and its telemetry is off, so
the app runs on a laptop with no network. ``make app`` runs this.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")


def app(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pwsim-app", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this computer only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    args = parser.parse_args(argv)
    command = [sys.executable, "-m", "solara", "run", str(APP), "--host", args.host,
               "--port", str(args.port), "--production", "--no-open", "--no-check-version"]
    os.execve(sys.executable, command, {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"})


if __name__ == "__main__":
    app()
