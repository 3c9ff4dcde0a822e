"""``pwsim-app``: serve the workshop app (``sim/app.py``) with Solara, offline, on 127.0.0.1.

Solara's JS/CSS come from the installed ``solara-assets`` (no CDN) and its telemetry is off, so
the app runs on a laptop with no network. ``make app`` runs this; ``make app APP_HOST=0.0.0.0``
opens it to the room's network (for the participatory room), with a printed warning.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")
#: Solara's environment for the app: no telemetry; no "This website runs on Solara" banner
#: (it sits over the pages' controls on a laptop screen).
SOLARA_ENV = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false", "SOLARA_THEME_SHOW_BANNER": "false"}


def app(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pwsim-app", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this computer only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"WARNING: the app is open to other computers on this network at {args.host}:"
              f"{args.port}. It has no login: anyone who can reach this laptop can use it, "
              "and join a participatory room that has its code. Only do this on a network "
              "you trust; stop with Ctrl+C.", file=sys.stderr)
    command = [sys.executable, "-m", "solara", "run", str(APP), "--host", args.host,
               "--port", str(args.port), "--production", "--no-open", "--no-check-version"]
    os.execve(sys.executable, command, {**os.environ, **SOLARA_ENV})


if __name__ == "__main__":
    app()
