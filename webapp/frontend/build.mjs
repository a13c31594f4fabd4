// Copies the dashboard's third-party browser modules from node_modules into
// webapp/static/vendor (git-ignored). Run after `npm ci`: `npm run build`.
// Files are renamed to .js so every static server sends a JavaScript MIME type.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const vendor = join(here, "..", "static", "vendor");

const FILES = [
  // [package, file inside the package, name in static/vendor]
  ["socket.io-client", "dist/socket.io.esm.min.js", "socket.io.esm.min.js"],
  ["socket.io-client", "LICENSE", "socket.io-client.LICENSE"],
  ["cytoscape", "dist/cytoscape.esm.min.mjs", "cytoscape.esm.min.js"],
  ["cytoscape", "LICENSE", "cytoscape.LICENSE"],
  // one self-contained ES module (zrender inside); loaded only when a chart is shown
  ["echarts", "dist/echarts.esm.min.mjs", "echarts.esm.min.js"],
  ["echarts", "LICENSE", "echarts.LICENSE"],
  ["echarts", "NOTICE", "echarts.NOTICE"],
  ["zrender", "LICENSE", "zrender.LICENSE"],
  // the 3D architecture view, loaded only when it is opened. three.module.js imports
  // ./three.core.js; the add-ons import the bare "three", which the page's import map
  // resolves (with "three/addons/" -> three-addons/, the layout three's own docs use).
  ["three", "build/three.module.js", "three.module.js"],
  ["three", "build/three.core.js", "three.core.js"],
  ["three", "examples/jsm/controls/OrbitControls.js", "three-addons/controls/OrbitControls.js"],
  ["three", "examples/jsm/renderers/CSS2DRenderer.js", "three-addons/renderers/CSS2DRenderer.js"],
  ["three", "LICENSE", "three.LICENSE"],
];

mkdirSync(vendor, { recursive: true });
const versions = {};
for (const [pkg, file, out] of FILES) {
  const source = join(modules, pkg, file);
  const target = join(vendor, out);
  if (!existsSync(source)) {
    console.error(`missing ${source}: run "npm ci" in webapp/frontend first`);
    process.exit(1);
  }
  if (out.endsWith(".js")) {
    // Drop the source-map comment: the map is not shipped, and a 404 for it is noise.
    const text = readFileSync(source, "utf8").replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, "\n");
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  } else {
    copyFileSync(source, target);
  }
  versions[pkg] = JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;
}
writeFileSync(join(vendor, "versions.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`vendor files written to ${vendor}:`, versions);
