"""What a saved notebook keeps of a widget: its fallbacks, not a reference to a kernel's model.

A widget's output holds a widget-view entry (``{"model_id": ...}``, a reference to a model that
lives in the kernel and in the open page) beside its fallbacks (a course widget's: its HTML, a
picture that becomes the live figure where the page runs scripts, its PNG and a line of text).
Saved as it is, the reference outlives the model: reopened, JupyterLab prefers the widget view
and shows "Error displaying widget: model not found" until the cell runs again. Without the
reference, the reopened notebook shows the fallback: in JupyterLab, the course widget's figure,
alive without a kernel, in the state its cell displayed (the notebook is trusted, since its
owner saved it; untrusted, the picture).

Two places apply :func:`drop_widget_views`:

* ``scripts/build_notebooks.py``, before it stores a lesson;
* JupyterLab's server, before it saves a notebook: this module is a Jupyter server extension,
  enabled by ``jupyter/etc/jupyter_server_config.d/lessons_lib.json`` (installed by
  ``pip install -e .``), whose only act is :func:`pre_save_hook`.

A model whose state the notebook itself saves (JupyterLab's "Save Widget State Automatically",
off by default) is left referenced: JupyterLab restores it from that state.
"""

from __future__ import annotations

from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def drop_widget_views(nb: dict[str, Any]) -> int:
    """Remove every widget-view entry whose model the notebook does not save; returns how many.

    ``nb`` is a notebook as JSON (a dict, or an ``nbformat.NotebookNode``), changed in place; the
    other entries of each output stay. An output left with nothing to show gets a line of text
    saying so. Parts that are not what nbformat says they are (a missing or ``None`` metadata,
    outputs or data) are passed over, never an error: a save must not fail half-way."""
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise TypeError(f"nb must be a notebook (a dict with a list of cells); got {type(nb).__name__}")
    saved: object = nb
    for key in ("metadata", "widgets", WIDGET_STATE, "state"):
        saved = saved.get(key) if isinstance(saved, dict) else None
    saved = saved if isinstance(saved, dict) else {}
    dropped = 0
    for cell in nb["cells"]:
        outputs = cell.get("outputs") if isinstance(cell, dict) else None
        for output in outputs if isinstance(outputs, list) else []:
            data = output.get("data") if isinstance(output, dict) else None
            if not isinstance(data, dict) or WIDGET_VIEW not in data:
                continue
            view = data[WIDGET_VIEW]
            if isinstance(view, dict) and view.get("model_id") in saved:
                continue
            del data[WIDGET_VIEW]
            if not data:
                data["text/plain"] = "(a widget: run the cell to show it)"
            dropped += 1
    return dropped


def pre_save_hook(model: dict[str, Any], path: str, contents_manager: Any = None, **kwargs: Any) -> None:
    """Jupyter server's pre-save hook: a notebook about to be saved loses its dangling widget views."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        drop_widget_views(model["content"])


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "lessons_lib.saved_notebooks"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    serverapp.contents_manager.register_pre_save_hook(pre_save_hook)
    serverapp.log.info("lessons_lib: notebooks are saved without dangling widget views")
