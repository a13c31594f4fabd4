// The best model's architecture in 3D with three.js: one block per layer, sized by its output
// shape (architecture.js: blockSize states the rule) and coloured by family, levels running
// left to right; orbit, zoom and pan (OrbitControls, arrow keys too), a label per layer
// (CSS2DRenderer), a tooltip on hover (Raycaster), the 2D graph's forward and backward pass,
// and a PNG export. three is imported only when the view is first shown, and the scene is
// drawn on demand (a change of camera, size or highlight), not every frame.

import { blockLayout, detail, familyOf, fitView, runPass, viewPoints } from "./architecture.js";
import { h, int, shape } from "./dom.js";

const BACKGROUND = "#fbfcfe"; // the 2D graph's
const ACTIVE = { forward: "#f59e0b", backward: "#dc2626" }; // the 2D graph's highlights
const LINK = "#94a3b8";
const OUTLINE = "#334155";
const VISITED = "#111827";
const ACTIVE_SCALE = 1.15;
// The camera looks from the front, right and above; in a narrow view more from the side of
// the output, so the model's length runs into the picture rather than across it.
const VIEW_DIRECTION = { wide: [0.8, 0.55, 1], narrow: [1.6, 0.8, 1] };
const NARROW = 1.2; // width / height below which a view is narrow
const FOV = 35; // vertical, degrees
const LABEL_ROOM = 1.5; // scene units above and below each block kept for its label
const LABEL_FONT_PX = 11;
const EXPORT_SCALE = 2; // the PNG's pixels per CSS pixel, as the 2D graph's

// The 3D view cannot draw here; `message` says why, for the person looking at the page.
export class Unavailable extends Error {}

export class ArchitectureView3D {
  constructor({ container, caption }) {
    this.container = container;
    this.caption = caption;
    this.three = null; // { THREE, OrbitControls, CSS2DRenderer, CSS2DObject } once loaded
    this.starting = null; // the start under way
    this.renderer = null;
    this.built = null; // the architecture the scene shows
    this.blocks = new Map(); // layer name -> { mesh, outline, label, layer, family }
    this.links = []; // { source, target, line }
    this.order = [];
    this.stopPass = null;
    this.frame = 0;
  }

  // Show `architecture` (building the renderer the first time); throws Unavailable.
  async show(architecture) {
    if (!this.renderer) {
      this.starting ??= this.start().finally(() => {
        this.starting = null;
      });
      await this.starting; // one start, however often the button is pressed meanwhile
    }
    if (this.built !== architecture) this.build(architecture);
    this.resize();
    this.fit();
  }

  async start() {
    const canvas = h("canvas", {
      class: "graph3d-canvas", role: "img", tabindex: "0",
      "aria-label": "3D view of the best model's layers: drag to orbit, scroll or pinch to zoom, "
        + "right-drag or two fingers to pan; arrow keys pan, Shift with an arrow key orbits. "
        + "The layer table below lists the same layers.",
    });
    // WebGL 2 is what three.js draws with; asking for it here (no error if refused) decides
    // the fallback before three is loaded at all.
    const context = canvas.getContext("webgl2", { antialias: true, preserveDrawingBuffer: true });
    if (!context) {
      throw new Unavailable("The 3D view needs WebGL 2, which this browser does not offer (it may "
        + "be turned off, or the graphics driver blocked); the 2D graph shows the same layers.");
    }
    try {
      const [THREE, controls, labels] = await Promise.all([import("three"),
        import("three/addons/controls/OrbitControls.js"), import("three/addons/renderers/CSS2DRenderer.js")]);
      this.three = { THREE, OrbitControls: controls.OrbitControls, ...labels };
    } catch (error) {
      console.warn("three.js is unavailable", error);
      context.getExtension("WEBGL_lose_context")?.loseContext();
      throw new Unavailable("The 3D view needs the vendor files (run scripts/setup.sh); the 2D "
        + "graph shows the same layers.");
    }
    const { THREE, OrbitControls, CSS2DRenderer } = this.three;
    this.renderer = new THREE.WebGLRenderer({ canvas, context, antialias: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.setClearColor(BACKGROUND);
    this.labelRenderer = new CSS2DRenderer({ element: h("div", { class: "graph3d-labels", "aria-hidden": "true" }) });
    this.tip = h("div", { class: "graph3d-tip", hidden: true, "aria-hidden": "true" });
    this.container.replaceChildren(canvas, this.labelRenderer.domElement, this.tip);
    this.camera = new THREE.PerspectiveCamera(FOV, 1, 0.1, 1000);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.listenToKeyEvents(canvas);
    this.controls.addEventListener("change", () => this.requestRender());
    this.raycaster = new THREE.Raycaster();
    canvas.addEventListener("pointermove", (event) => this.hover(event));
    canvas.addEventListener("pointerdown", (event) => this.hover(event)); // a tap on a phone
    canvas.addEventListener("pointerleave", () => this.hideTip());
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(this.container);
    this.container.view3d = this; // for debugging and tests, as the 2D graph's container.cy
  }

  build(architecture) {
    const { THREE, CSS2DObject } = this.three;
    this.stop();
    this.clearScene();
    const scene = new THREE.Scene();
    scene.add(new THREE.AmbientLight(0xffffff, 1.4));
    const sun = new THREE.DirectionalLight(0xffffff, 2.2);
    sun.position.set(4, 10, 7);
    scene.add(sun);
    const layout = blockLayout(architecture.layers || [], architecture.edges || []);
    layout.blocks.forEach(({ name, layer, size, centre }, i) => {
      const family = familyOf(layer.type);
      const geometry = new THREE.BoxGeometry(size.thickness, size.height, size.depth);
      const mesh = new THREE.Mesh(geometry, new THREE.MeshLambertMaterial({ color: family.color }));
      mesh.position.set(...centre);
      mesh.userData.name = name;
      const outline = new THREE.LineSegments(new THREE.EdgesGeometry(geometry),
        new THREE.LineBasicMaterial({ color: OUTLINE }));
      mesh.add(outline);
      // labels alternate above and below the blocks, so neighbours' names do not overlap
      const above = i % 2 === 0;
      const label = new CSS2DObject(h("div", { class: "graph3d-label" }, name));
      label.center.set(0.5, above ? 1 : 0);
      label.position.set(centre[0], centre[1] + (above ? 1 : -1) * (size.height / 2 + 0.4), centre[2]);
      scene.add(mesh, label);
      this.blocks.set(name, { mesh, outline, label, layer, family });
    });
    for (const { source, target, from, to } of layout.links) {
      const line = new THREE.Line(new THREE.BufferGeometry().setFromPoints([from, to].map((p) => new THREE.Vector3(...p))),
        new THREE.LineBasicMaterial({ color: LINK }));
      scene.add(line);
      this.links.push({ source, target, line });
    }
    this.scene = scene;
    this.order = layout.blocks.map((b) => b.name);
    this.points = viewPoints(layout.blocks, LABEL_ROOM);
    this.built = architecture;
    this.container.dataset.layerCount = String(this.blocks.size);
  }

  resize() {
    if (!this.renderer) return;
    const width = this.container.clientWidth;
    const height = this.container.clientHeight;
    if (!width || !height) return; // hidden
    this.renderer.setSize(width, height, false);
    this.labelRenderer.setSize(width, height);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.requestRender();
  }

  // The whole model in view, seen from the front, right and above (the "Reset view" button).
  fit() {
    if (!this.scene) return;
    const view = VIEW_DIRECTION[this.camera.aspect < NARROW ? "narrow" : "wide"];
    const { target, distance } = fitView(this.points, view, FOV, this.camera.aspect);
    const direction = new this.three.THREE.Vector3(...view).normalize();
    this.camera.position.set(...target).addScaledVector(direction, distance);
    this.camera.near = distance / 100;
    this.camera.far = distance * 10;
    this.camera.updateProjectionMatrix();
    this.controls.target.set(...target);
    this.controls.update();
    this.requestRender();
  }

  requestRender() {
    if (this.frame || !this.renderer) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    if (!this.scene) return;
    this.renderer.render(this.scene, this.camera);
    this.labelRenderer.render(this.scene, this.camera);
  }

  // ---- the tooltip ------------------------------------------------------------------------

  hover(event) {
    if (!this.scene) return;
    const box = this.renderer.domElement.getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    const pointer = new this.three.THREE.Vector2((x / box.width) * 2 - 1, -(y / box.height) * 2 + 1);
    this.raycaster.setFromCamera(pointer, this.camera);
    const meshes = [...this.blocks.values()].map((b) => b.mesh);
    const hit = this.raycaster.intersectObjects(meshes, false)[0];
    if (!hit) {
      this.hideTip();
      return;
    }
    const { layer } = this.blocks.get(hit.object.userData.name);
    const settings = detail(layer);
    this.tip.replaceChildren(
      h("strong", {}, layer.name),
      h("span", {}, settings ? `${layer.type} · ${settings}` : layer.type),
      h("span", {}, `Output ${shape(layer.output_shape)}`),
      h("span", {}, `${int(layer.params)} parameters`));
    this.tip.dataset.layer = layer.name;
    this.tip.hidden = false;
    // beside the pointer, kept inside the view
    const left = Math.min(x + 14, box.width - this.tip.offsetWidth - 4);
    const top = y + 14 + this.tip.offsetHeight > box.height ? y - 14 - this.tip.offsetHeight : y + 14;
    this.tip.style.left = `${Math.max(4, left)}px`;
    this.tip.style.top = `${Math.max(4, top)}px`;
  }

  hideTip() {
    if (this.tip) this.tip.hidden = true;
  }

  // ---- the pass -----------------------------------------------------------------------------

  // The 2D graph's animation: the layer whose turn it is grows and turns amber (forward) or
  // red (backward) with the links it takes; the layers it passed keep a dark outline.
  animate(direction) {
    if (!this.scene) return;
    this.stop();
    let current = null;
    this.stopPass = runPass(this.order, direction, {
      onStep: (name, backward) => {
        if (current) this.mark(current, false, backward);
        current = name;
        this.mark(name, true, backward);
      },
      onEnd: () => this.unmarkAll(),
      say: (text) => {
        this.caption.textContent = text;
      },
    });
  }

  mark(name, active, backward = false) {
    const block = this.blocks.get(name);
    const colour = backward ? ACTIVE.backward : ACTIVE.forward;
    block.mesh.material.color.set(active ? colour : block.family.color);
    block.mesh.scale.setScalar(active ? ACTIVE_SCALE : 1);
    block.outline.material.color.set(VISITED);
    for (const link of this.links) {
      if ((backward ? link.source : link.target) === name) link.line.material.color.set(active ? colour : LINK);
    }
    this.requestRender();
  }

  unmarkAll() {
    for (const block of this.blocks.values()) {
      block.mesh.material.color.set(block.family.color);
      block.mesh.scale.setScalar(1);
      block.outline.material.color.set(OUTLINE);
    }
    for (const link of this.links) link.line.material.color.set(LINK);
    this.requestRender();
  }

  stop() {
    this.stopPass?.();
    this.stopPass = null;
    if (this.scene) this.unmarkAll();
  }

  // ---- export, projection, clean-up ---------------------------------------------------------

  // A layer's block (three.js Mesh): its material and scale show the pass.
  block(name) {
    return this.blocks.get(name)?.mesh ?? null;
  }

  // Where a scene point lands on the canvas, in CSS pixels from its top left.
  project(point) {
    const p = point.clone().project(this.camera);
    const canvas = this.renderer.domElement;
    return { x: (p.x + 1) / 2 * canvas.clientWidth, y: (1 - p.y) / 2 * canvas.clientHeight };
  }

  // Where a layer's block centre is on the page (viewport pixels), as a pointer would reach it.
  screenPoint(name) {
    const box = this.renderer.domElement.getBoundingClientRect();
    const p = this.project(this.block(name).position);
    return { x: box.left + p.x, y: box.top + p.y };
  }

  // The picture as a PNG blob: the scene drawn now at EXPORT_SCALE pixels per CSS pixel (at
  // least), with the labels written in.
  png() {
    if (!this.scene) return null;
    const shown = this.renderer.getPixelRatio();
    const ratio = Math.max(EXPORT_SCALE, shown);
    this.renderer.setPixelRatio(ratio);
    this.draw();
    const source = this.renderer.domElement;
    const out = h("canvas", { width: String(source.width), height: String(source.height) });
    const pen = out.getContext("2d");
    pen.drawImage(source, 0, 0);
    this.renderer.setPixelRatio(shown);
    this.draw();
    pen.font = `${LABEL_FONT_PX * ratio}px system-ui, sans-serif`;
    pen.textAlign = "center";
    pen.lineWidth = 3 * ratio;
    pen.strokeStyle = BACKGROUND;
    pen.fillStyle = "#1e293b";
    for (const [name, { label }] of this.blocks) {
      const { x, y } = this.project(label.position);
      pen.textBaseline = label.center.y === 1 ? "bottom" : "top";
      pen.strokeText(name, x * ratio, y * ratio);
      pen.fillText(name, x * ratio, y * ratio);
    }
    return new Promise((resolve) => out.toBlob(resolve, "image/png"));
  }

  clearScene() {
    for (const { mesh, outline } of this.blocks.values()) {
      mesh.geometry.dispose();
      mesh.material.dispose();
      outline.geometry.dispose();
      outline.material.dispose();
    }
    for (const { line } of this.links) {
      line.geometry.dispose();
      line.material.dispose();
    }
    this.blocks.clear();
    this.links = [];
    this.labelRenderer.domElement.replaceChildren();
    this.scene = null;
    this.built = null;
    this.hideTip();
  }

  // Everything released, the WebGL context too (a page may hold only a few at once).
  destroy() {
    this.stop();
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (!this.renderer) return;
    this.clearScene();
    this.resizer.disconnect();
    this.controls.dispose();
    this.renderer.dispose();
    this.renderer.forceContextLoss();
    this.renderer = null;
    delete this.container.view3d;
    delete this.container.dataset.layerCount;
    this.container.replaceChildren();
  }
}
