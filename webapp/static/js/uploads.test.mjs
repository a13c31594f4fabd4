import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError } from "./api.js";
import { classSummary, formatBytes, problemLines } from "./uploads.js";

test("sizes read as people read them", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(12_345), "12.3 kB");
  assert.equal(formatBytes(104_857_600), "104.9 MB");
});

test("a refusal lists every bad file the server named", () => {
  const error = new ApiError(422, { error: "validation failed",
    fields: { "red/x.txt": "is not an image", "blue/": "is an empty class folder" } });
  assert.deepEqual(problemLines(error),
    ["red/x.txt: is not an image", "blue/: is an empty class folder"]);
  assert.deepEqual(problemLines(new ApiError(413, { error: "over the quota" })),
    ["over the quota"]);
});

test("classes are listed with their counts", () => {
  assert.equal(classSummary({ classes: [{ name: "red", samples: 3 }, { name: "blue", samples: 2 }] }),
    "red 3 · blue 2");
});
