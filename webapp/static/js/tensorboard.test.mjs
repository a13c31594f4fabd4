import assert from "node:assert/strict";
import { test } from "node:test";

import { urls } from "./api.js";
import { parseTrialNumbers, tensorboardCommand } from "./tensorboard.js";

test("trial numbers are read in any order, each once, blank for all", () => {
  assert.deepEqual(parseTrialNumbers("7, 1 4,,1", 8), { numbers: [1, 4, 7] });
  assert.deepEqual(parseTrialNumbers("  ", 8), { numbers: [] });
});

test("anything but a trial the job has is refused, saying why", () => {
  assert.match(parseTrialNumbers("1, x", 8).error, /whole numbers/);
  assert.match(parseTrialNumbers("-1", 8).error, /whole numbers/);
  assert.match(parseTrialNumbers("1.5", 8).error, /whole numbers/);
  assert.equal(parseTrialNumbers("3, 8, 12", 8).error,
    "This job has no trial 8, 12 (its trials are 0–7).");
  assert.equal(parseTrialNumbers("0", 0).error, "This job has no trial 0 (it has no trials yet).");
});

test("the command and the zip name the same trials", () => {
  assert.equal(tensorboardCommand("0a1b2c3d4e5f", []), "onegin tensorboard 0a1b2c3d4e5f");
  assert.equal(tensorboardCommand("0a1b2c3d4e5f", [1, 4]), "onegin tensorboard 0a1b2c3d4e5f 1 4");
  assert.equal(urls.tensorboardZip("0a1b2c3d4e5f", []), "/api/v1/jobs/0a1b2c3d4e5f/tensorboard.zip");
  assert.equal(urls.tensorboardZip("0a1b2c3d4e5f", [1, 4]),
    "/api/v1/jobs/0a1b2c3d4e5f/tensorboard.zip?trials=1,4");
});
