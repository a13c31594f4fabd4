"""The architecture's 3D view (three.js) in Debian's chromium with software WebGL
(SwiftShader), at desktop (1280×800) and phone (390×844) widths: it draws, has one block per
layer, shows a layer's tooltip on hover, orbits and resets, runs the forward and backward
passes, and exports a PNG; where WebGL is turned off the 2D graph stays with a message.

The server is the real ``onegin web`` (no GPU worker) on a home seeded as the orchestrator
leaves a finished job: its records, and the best trial's artifacts in ``jobs/<id>/best/``
with an ``architecture.json``, so nothing trains. The page reads everything over HTTP.
"""

from __future__ import annotations

import itertools
import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from onegin.artifacts import best_prefix, open_artifact_store
from onegin.job_config import OptimizationConfig
from onegin.records import RecordStore
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, onegin_web, watch_errors

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
# Software WebGL: ANGLE on SwiftShader (Chromium no longer falls back to it unasked).
WEBGL_ARGS = [a for a in CHROMIUM_ARGS if a != "--disable-gpu"] + [
    "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
NO_WEBGL_ARGS = [*CHROMIUM_ARGS, "--disable-webgl"]


def _layer(name: str, type_: str, shape: list[int | None], params: int = 0,
           **config: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "output_shape": shape, "params": params, **config}


LAYERS = [
    _layer("input_layer", "InputLayer", [None, 28, 28, 1]),
    _layer("conv2d", "Conv2D", [None, 28, 28, 32], 320, filters=32, kernel_size=[3, 3],
           activation="relu"),
    _layer("max_pooling2d", "MaxPooling2D", [None, 14, 14, 32], pool_size=[2, 2]),
    _layer("conv2d_1", "Conv2D", [None, 14, 14, 64], 18496, filters=64, kernel_size=[3, 3],
           activation="relu"),
    _layer("flatten", "Flatten", [None, 12544]),
    _layer("dropout", "Dropout", [None, 12544], rate=0.3),
    _layer("dense", "Dense", [None, 128], 1605760, units=128, activation="relu"),
    _layer("dense_1", "Dense", [None, 10], 1290, units=10, activation="softmax"),
]
NAMES = [layer["name"] for layer in LAYERS]
ARCHITECTURE = {
    "layers": LAYERS,
    "edges": [{"source": a["name"], "target": b["name"], "shape": a["output_shape"]}
              for a, b in itertools.pairwise(LAYERS)],
    "total_params": sum(int(layer["params"]) for layer in LAYERS),
    "trainable_params": sum(int(layer["params"]) for layer in LAYERS),
}
ACTIVE = {"forward": "f59e0b", "backward": "dc2626"}

# Distinct colours on the 3D canvas, read back through a 2D canvas (the view keeps its
# drawing buffer, as its PNG export needs).
CANVAS_COLOURS = """() => {
  const source = document.querySelector("#graph3d canvas");
  if (!source || !source.width) return 0;
  const copy = document.createElement("canvas");
  copy.width = source.width; copy.height = source.height;
  const pen = copy.getContext("2d");
  pen.drawImage(source, 0, 0);
  const data = pen.getImageData(0, 0, copy.width, copy.height).data;
  const seen = new Set();
  for (let i = 0; i < data.length; i += 16) {
    seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
  }
  return seen.size;
}"""
# Every caption of a pass with the blocks' colour and scale at that moment: a step marks its
# block and sets the caption in one go, so an observer of the caption sees each step's state
# however briefly it lasts (a step is 420 ms; polling a loaded machine may miss one).
RECORD_PASS = """() => {
  const view = document.querySelector("#graph3d").view3d;
  const caption = document.querySelector("#graph-caption");
  window.__pass = [];
  window.__passObserver?.disconnect();  // the last pass's
  window.__passObserver = new MutationObserver(() => window.__pass.push({
    caption: caption.textContent,
    blocks: Object.fromEntries(view.order.map((name) => {
      const mesh = view.block(name);
      return [name, [mesh.material.color.getHexString(), mesh.scale.x]];
    })),
  }));
  window.__passObserver.observe(caption, {childList: true, characterData: true, subtree: true});
}"""
SCREEN_POINT = "(name) => document.querySelector('#graph3d').view3d.screenPoint(name)"
CAMERA = "() => document.querySelector('#graph3d').view3d.camera.position.toArray()"


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _seed_finished_job(home: Path) -> str:
    """A completed job whose trial 0 is best, its best/ folder laid out as the orchestrator
    lays it out (best_hyperparameters.yaml written last)."""
    records = RecordStore(f"sqlite:///{home}/onegin.db", upgrade=True)
    try:
        config = OptimizationConfig(dataset="digits", trials=1, epochs=1, concurrency=1,
                                    plot_mode="none", seed=3).to_dict()
        job = records.create_job(config)
        params = {"conv_layers": 2, "filters": 32, "dense_units": 128}
        records.upsert_trial(job.id, 0, status="completed", params=params, val_accuracy=0.95,
                             total_score=0.9, metrics={"epochs_run": 1, "plots": []})
        records.update_job(job.id, status="running")
        records.update_job(job.id, status="completed", best_trial_number=0, best_score=0.9,
                           best_accuracy=0.95)
    finally:
        records.close()
    store = open_artifact_store(f"file://{home}/artifacts")
    prefix = best_prefix(job.id)
    store.put_bytes(prefix + "architecture.json", json.dumps(ARCHITECTURE).encode())
    store.put_bytes(prefix + "metrics.json", json.dumps({"plots": []}).encode())
    document = {"job_id": job.id, "trial": 0, "hyperparameters": params}
    store.put_bytes(prefix + "best_hyperparameters.yaml", yaml.safe_dump(document).encode())
    return job.id


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(server URL, job id) of the seeded finished job."""
    home = tmp_path_factory.mktemp("architecture-3d")
    job_id = _seed_finished_job(home)
    with onegin_web(home, workers=0) as url:
        yield url, job_id


def _launch(browser: Any, args: list[str]) -> Iterator[Any]:
    """Another chromium from the session's Playwright, with its own flags."""
    other = browser.browser_type.launch(executable_path=CHROMIUM, args=args)
    yield other
    other.close()


@pytest.fixture(scope="module")
def webgl_browser(browser: Any) -> Iterator[Any]:
    yield from _launch(browser, WEBGL_ARGS)


@pytest.fixture(scope="module")
def no_webgl_browser(browser: Any) -> Iterator[Any]:
    yield from _launch(browser, NO_WEBGL_ARGS)


def _open_best(chromium: Any, url: str, job_id: str,
               viewport: str) -> tuple[Any, list[str], list[str]]:
    """A page on the job at ``viewport`` with its best model (and the 2D graph) shown, the
    URLs of every request it made, and its errors (see `watch_errors`)."""
    width, height = VIEWPORTS[viewport]
    context = chromium.new_context(viewport={"width": width, "height": height},
                                   accept_downloads=True, base_url=url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors = watch_errors(page)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"/#/jobs/{job_id}")
    page.wait_for_selector("#best-section:not([hidden])")
    page.wait_for_selector("#graph canvas")
    return page, requests, errors


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    width, height = struct.unpack(">II", data[16:24])  # IHDR: the first chunk
    return width, height


def _pass_runs(page: Any, direction: str) -> None:
    """The pass enlarges and colours one block after another in its direction, then clears."""
    order = NAMES if direction == "forward" else NAMES[::-1]
    page.evaluate(RECORD_PASS)
    page.click(f"#animate-{direction}")
    finished = f"{direction.capitalize()} pass finished."
    page.wait_for_function(
        "(text) => document.querySelector('#graph-caption').textContent === text", arg=finished)
    steps = page.evaluate("() => window.__pass")
    assert [step["caption"] for step in steps][-1] == finished
    assert len(steps) == len(order) + 1, [step["caption"] for step in steps]
    flow = "gradients flow back" if direction == "backward" else "activations flow"
    for index, (name, step) in enumerate(zip(order, steps, strict=False)):
        expected = f"step {index + 1} of {len(order)}: {flow} through {name}."
        assert step["caption"].endswith(expected), step["caption"]
        assert step["blocks"][name] == [ACTIVE[direction], 1.15]
        others = [state for other, state in step["blocks"].items() if other != name]
        assert all(colour != ACTIVE[direction] and scale == 1 for colour, scale in others)
    assert all(colour != ACTIVE[direction] and scale == 1
               for colour, scale in steps[-1]["blocks"].values())


def test_the_3d_view_draws_each_layer_with_tooltips_passes_and_a_png(
        webgl_browser: Any, seeded: tuple[str, str], viewport: str, screenshots: Path) -> None:
    url, job_id = seeded
    page, requests, errors = _open_best(webgl_browser, url, job_id, viewport)
    assert not [r for r in requests if "/vendor/three" in r]  # three loads only when asked for

    page.click("#view-3d")
    page.wait_for_function("() => document.querySelector('#graph3d').dataset.layerCount")
    assert page.get_attribute("#graph3d", "data-layer-count") == str(len(LAYERS))
    assert page.get_attribute("#view-3d", "aria-pressed") == "true"
    assert page.is_hidden("#graph") and page.is_visible("#graph3d")
    assert "log₂" in page.inner_text("#graph3d-help")
    assert any(r.endswith("/vendor/three.module.js") for r in requests)
    assert page.locator("#graph3d .graph3d-label").all_inner_texts() == NAMES
    page.wait_for_function(f"() => ({CANVAS_COLOURS})() > 20")  # drawn: not one flat colour
    width = VIEWPORTS[viewport][0]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    page.locator("#graph3d").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"{viewport}-architecture-3d.png"))

    # a tooltip for the block under the pointer, found by projecting the block's centre
    for name in ("conv2d", "dense_1"):
        point = page.evaluate(SCREEN_POINT, name)
        page.mouse.move(point["x"], point["y"])
        page.wait_for_function(
            "(name) => { const t = document.querySelector('#graph3d .graph3d-tip');"
            " return !t.hidden && t.dataset.layer === name; }", arg=name)
    tip = page.inner_text("#graph3d .graph3d-tip")
    assert "dense_1" in tip and "Dense" in tip and "Output 10" in tip and "1,290 parameters" in tip
    page.screenshot(path=str(screenshots / f"{viewport}-architecture-3d-tooltip.png"))
    page.mouse.move(1, 1)  # off the canvas: the tooltip goes
    page.wait_for_selector("#graph3d .graph3d-tip", state="hidden")

    # orbit with a drag or a key; Reset view brings the camera back
    start = page.evaluate(CAMERA)
    box = page.locator("#graph3d canvas").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 60, steps=5)
    page.mouse.up()
    moved = page.evaluate(CAMERA)
    assert max(abs(a - b) for a, b in zip(start, moved, strict=True)) > 1
    page.click("#graph-fit")
    assert page.evaluate(CAMERA) == pytest.approx(start)
    page.focus("#graph3d canvas")
    page.keyboard.press("Shift+ArrowLeft")
    assert page.evaluate(CAMERA) != pytest.approx(start)
    page.click("#graph-fit")

    _pass_runs(page, "forward")
    _pass_runs(page, "backward")

    with page.expect_download() as download:
        page.click("#graph-png")
    assert download.value.suggested_filename == f"onegin-{job_id}-architecture-3d.png"
    exported = Path(download.value.path()).read_bytes()
    canvas = page.evaluate("() => { const c = document.querySelector('#graph3d canvas');"
                           " return [c.clientWidth, c.clientHeight]; }")
    assert list(_png_size(exported)) == [2 * side for side in canvas]  # at twice the size
    (screenshots / f"{viewport}-architecture-3d-export.png").write_bytes(exported)

    page.click("#view-2d")
    assert page.is_visible("#graph") and page.is_hidden("#graph3d")
    assert page.get_attribute("#view-2d", "aria-pressed") == "true"
    page.context.close()
    assert not errors, "\n".join(errors)


def test_without_webgl_the_2d_graph_stays_and_says_why(
        no_webgl_browser: Any, seeded: tuple[str, str], viewport: str, screenshots: Path) -> None:
    url, job_id = seeded
    page, requests, errors = _open_best(no_webgl_browser, url, job_id, viewport)
    page.click("#view-3d")
    page.wait_for_selector("#graph3d-message:has-text('WebGL')")
    assert "2D graph" in page.inner_text("#graph3d-message")
    assert page.is_visible("#graph canvas") and page.is_hidden("#graph3d")
    assert page.get_attribute("#view-2d", "aria-pressed") == "true"
    assert page.get_attribute("#view-3d", "aria-pressed") == "false"
    assert not [r for r in requests if "/vendor/three" in r]  # nothing loaded in vain
    page.click("#animate-forward")  # the toolbar works the 2D graph
    page.wait_for_function("() => document.querySelector('#graph-caption').textContent"
                           ".startsWith('Forward pass')")
    page.screenshot(path=str(screenshots / f"{viewport}-architecture-3d-fallback.png"),
                    full_page=True)
    page.context.close()
    assert not errors, "\n".join(errors)
