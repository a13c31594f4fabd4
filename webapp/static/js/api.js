// The REST client: one place that knows URLs, the CSRF header and error shapes.

const BASE = "/api/v1";
let csrfToken = null;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `request failed with HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.fields = (body && body.fields) || {};
  }
}

export function setCsrfToken(token) {
  csrfToken = token || null;
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(BASE + path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("application/json")) {
    data = await response.json().catch(() => null);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// A file as the raw request body (uploads), answered like `request`.
async function send(method, path, file) {
  const headers = { Accept: "application/json", "Content-Type": "application/octet-stream" };
  if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(BASE + path, { method, headers, credentials: "same-origin",
    body: file });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

const enc = encodeURIComponent;

export const api = {
  session: () => request("GET", "/session"),
  signIn: (token) => request("POST", "/session", { token }),
  signOut: () => request("DELETE", "/session"),
  datasets: () => request("GET", "/datasets"),
  scoring: () => request("GET", "/scoring"),
  statuses: () => request("GET", "/statuses"),
  searchSpace: () => request("GET", "/search-space"),
  hyperparameters: () => request("GET", "/hyperparameters"),
  createJob: (config) => request("POST", "/jobs", config),
  jobsQuery: (query) => request("GET", `/jobs?${query}`),
  job: (id) => request("GET", `/jobs/${enc(id)}`),
  cancelJob: (id) => request("POST", `/jobs/${enc(id)}/cancel`, {}),
  trials: (id, page = 1, perPage = 100) =>
    request("GET", `/jobs/${enc(id)}/trials?page=${page}&per_page=${perPage}`),
  trialsQuery: (id, query) => request("GET", `/jobs/${enc(id)}/trials?${query}`),
  trialColumns: (id) => request("GET", `/jobs/${enc(id)}/trials/columns`),
  trial: (id, number) => request("GET", `/jobs/${enc(id)}/trials/${number}`),
  best: (id) => request("GET", `/jobs/${enc(id)}/best`),
  comparison: (id) => request("GET", `/comparisons/${enc(id)}`),
  study: (id) => request("GET", `/jobs/${enc(id)}/study`),
  front: (id) => request("GET", `/jobs/${enc(id)}/front`),
  analysis: (id) => request("GET", `/jobs/${enc(id)}/analysis`),
  uploads: () => request("GET", "/uploads?per_page=500"),
  uploadDataset: (file, name) => send("POST", `/uploads?name=${enc(name)}`, file),
  deleteUpload: (id) => request("DELETE", `/uploads/${enc(id)}`),
};

// Every trial of a job, page by page (the server caps per_page); `query` filters them
// as the trials list does (status=completed).
export async function allTrials(id, perPage = 100, query = "") {
  const trials = [];
  for (let page = 1; page <= 1000; page += 1) {
    const data = await api.trialsQuery(id, `page=${page}&per_page=${perPage}${query ? `&${query}` : ""}`);
    trials.push(...(data.trials || []));
    if (!data.trials || data.trials.length === 0 || trials.length >= (data.total ?? 0)) break;
  }
  return trials;
}

export const urls = {
  trialPlot: (id, number, name) =>
    `${BASE}/jobs/${enc(id)}/trials/${number}/artifacts/plots/${enc(name)}.png`,
  bestPlot: (id, name) => `${BASE}/jobs/${enc(id)}/best/artifacts/plots/${enc(name)}.png`,
  model: (id) => `${BASE}/jobs/${enc(id)}/best/model.keras`,
  yaml: (id) => `${BASE}/jobs/${enc(id)}/best/best_hyperparameters.yaml`,
  trialsCsv: (id) => `${BASE}/jobs/${enc(id)}/trials.csv`,
  bundle: (id) => `${BASE}/jobs/${enc(id)}/best/bundle.zip`,
  tensorboardZip: (id, numbers = []) => `${BASE}/jobs/${enc(id)}/tensorboard.zip`
    + (numbers.length ? `?trials=${numbers.join(",")}` : ""),
};
