"""Serve the explorer page on a local address (``opvang explore``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sim.page.levers import Settings
from sim.page.runs import Runner


def serve(folder: Path, host: str = "127.0.0.1", port: int = 5006, lang: str = "en",
          **settings: Any) -> None:
    """Serve the page until interrupted; every resource comes from this server (nothing is
    loaded from a network)."""
    os.environ.setdefault("BOKEH_RESOURCES", "server")  # Bokeh's scripts from this server
    import panel as pn

    from sim.page.app import view

    pn.config.inline = True  # type: ignore[misc]  # Panel's resources inlined, none from a CDN
    runner = Runner(Settings(folder, **settings), lang)
    print(f"opvang explore: http://{host}:{port}/ (results under {folder}); Ctrl-C stops", flush=True)
    pn.serve({"/": lambda: view(folder, lang=lang, runner=runner)}, address=host, port=port,
             show=False, title="opvang explore", websocket_origin=[f"{host}:{port}", f"localhost:{port}"],
             print_url=False)
