// Dashboard entry point: session check and sign-in, the router (#/, #/jobs, #/jobs/<id>,
// #/jobs/<id>/compare/<n>,<n>… for trials compared, #/jobs/<id>/trials, #/compare/<a>/<b>
// for two jobs compared) and the wiring between the form, the jobs page and the job view.

import { ApiError, api, setCsrfToken } from "./api.js";
import { $, $$, announce, initToggletips, setStatuses } from "./dom.js";
import { JobForm } from "./form.js";
import { JobsList } from "./jobs.js";
import { CompareJobsView } from "./compare_jobs_view.js";
import { JobView } from "./jobview.js";
import { UploadsPanel } from "./uploads.js";
import { TrialsTable } from "./trials_table.js";
import { parseNumbers, selection } from "./trial_selection.js";

let form = null;
let jobView = null;
let jobsList = null;
let uploads = null;
let trialsTable = null;
let compareJobsView = null;

function show(view) {
  $("#boot-message").hidden = true;
  $("#signin-view").hidden = view !== "signin";
  $("#app-view").hidden = view !== "app";
}

async function boot() {
  try {
    setStatuses(await api.statuses()); // public; every view reads them
    const session = await api.session();
    await start(session);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && error.body.auth_required === false) {
      await start({ name: "local", csrf_token: null, auth: "off" }); // open loopback server
    } else if (error instanceof ApiError && error.status === 401) {
      showSignIn();
    } else {
      $("#boot-message").textContent = `The dashboard could not reach the server: ${error.message}`;
    }
  }
}

function showSignIn(message = "") {
  setCsrfToken(null);
  jobView?.close();
  show("signin");
  $("#user-box").hidden = true;
  $("#mainnav").hidden = true;
  $("#signin-error").textContent = message;
  $("#signin-token").value = "";
  $("#signin-token").focus();
}

$("#signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = $("#signin-token").value.trim();
  const error = $("#signin-error");
  if (!token) {
    error.textContent = "Enter your access token.";
    $("#signin-token").setAttribute("aria-invalid", "true");
    return;
  }
  try {
    const session = await api.signIn(token);
    $("#signin-token").removeAttribute("aria-invalid");
    await start(session);
  } catch (err) {
    $("#signin-token").setAttribute("aria-invalid", "true");
    error.textContent = err instanceof ApiError && err.status === 401
      ? "That token was not accepted." : `Could not sign in: ${err.message}`;
  }
});

$("#sign-out").addEventListener("click", async () => {
  try {
    await api.signOut();
  } finally {
    showSignIn("You are signed out.");
  }
});

async function start(session) {
  setCsrfToken(session.csrf_token);
  const open = session.auth === "off" || (session.auth_required === false && !session.csrf_token);
  $("#user-name").textContent = open ? "Local (no sign-in)" : session.name;
  $("#user-box").hidden = false;
  $("#mainnav").hidden = false;
  $("#sign-out").hidden = open;
  show("app");
  if (!form) {
    form = new JobForm($("#job-form"), {
      onCreated: (job) => {
        announce(`Job ${job.id} started.`);
        location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
        route(); // now, not on hashchange: the new job's header must be there to scroll to
        // the form's Start is far below the job's header (phones: the job is above the form)
        $("#job-content").scrollIntoView({ block: "start" });
        $("#job-title").focus({ preventScroll: true });
      },
      onWeightsChange: () => jobView?.renderScoreTip(),
    });
    jobView = new JobView({
      form,
      onClone: (job, { continuing }) => {
        form.clone(job, { continuing });
        $("#config-title").scrollIntoView({ behavior: "smooth" });
        $(continuing ? "#trials" : "#dataset").focus({ preventScroll: true });
        announce(continuing ? `The form now continues job ${job.id}: set the new budget, then start.`
          : "The form now holds a copy of this job's settings.");
      },
    });
    jobsList = new JobsList({ datasets: () => form.datasets });
    compareJobsView = new CompareJobsView($("#compare-jobs-view"));
    uploads = new UploadsPanel({
      onChange: (list) => form.setUploads(list),
      onUse: (upload) => {
        form.setUploads(uploads.uploads);
        $("#dataset").value = upload.dataset;
        form.syncDataset();
        $("#dataset").focus();
        announce(`The form now uses the dataset ${upload.name}.`);
      },
    });
    trialsTable = new TrialsTable($("#trials-table"), { dialog: jobView.dialog, selection });
    initToggletips();
    window.addEventListener("hashchange", navigate);
  }
  form.applyLimits(session.limits);
  try {
    await form.load();
    jobView.gallery.chanceMargin = form.scoring?.chance_margin ?? 0;
    await uploads.load();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showSignIn("Your session has ended.");
    $("#form-error").textContent = `Could not load datasets and scoring: ${error.message}`;
  }
  route();
}

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const match = hash.match(/^\/jobs\/([^/]+)(?:\/compare\/([\d,]*))?$/);
  const table = hash.match(/^\/jobs\/([^/]+)\/trials$/);
  const comparedJobs = hash.match(/^\/compare\/([^/]+)\/([^/]+)$/);
  const layout = $("#app-view");
  let nav = "dashboard";
  $("#trials-table").hidden = !table;
  layout.classList.toggle("has-table", Boolean(table));
  if (!table) trialsTable.close();
  $("#compare-jobs-view").hidden = !comparedJobs;
  layout.classList.toggle("has-compare-jobs", Boolean(comparedJobs));
  if (!comparedJobs) compareJobsView.close();
  if (comparedJobs) {
    nav = "jobs";
    jobView.close();
    $("#job-view").hidden = true;
    $("#jobs-view").hidden = true;
    layout.classList.remove("has-job", "on-jobs");
    compareJobsView.open(decodeURIComponent(comparedJobs[1]), decodeURIComponent(comparedJobs[2]));
    $("#compare-jobs-view").scrollIntoView({ block: "start" });
    $("#compare-jobs-title").focus({ preventScroll: true });
  } else if (table) {
    nav = "jobs";
    jobView.close();
    $("#job-view").hidden = true;
    $("#jobs-view").hidden = true;
    layout.classList.remove("has-job", "on-jobs");
    const id = decodeURIComponent(table[1]);
    document.title = `Trials of job ${id} — Onegin`;
    trialsTable.open(id);
  } else if (hash === "/jobs") {
    nav = "jobs";
    jobView.close();
    $("#job-view").hidden = true;
    $("#jobs-view").hidden = false;
    layout.classList.remove("has-job");
    layout.classList.add("on-jobs"); // phones: the list comes before the form
    document.title = "Jobs — Onegin";
    jobsList.load(1);
    const top = $("#jobs-view").getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight / 2) $("#jobs-view").scrollIntoView({ block: "start" });
  } else {
    $("#jobs-view").hidden = true;
    $("#job-view").hidden = false;
    layout.classList.remove("on-jobs");
    if (match) {
      jobView.open(decodeURIComponent(match[1]));
      if (match[2] !== undefined) jobView.analysis.showComparison(parseNumbers(match[2]));
      $("#trials-table-link").href = `#/jobs/${match[1]}/trials`;
      layout.classList.add("has-job");
      nav = "jobs";
    } else {
      jobView.close();
      layout.classList.remove("has-job");
      document.title = "Onegin — accurate and healthy models";
    }
  }
  for (const link of $$("[data-nav]")) {
    if (link.dataset.nav === nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// A link or the address bar changed the view: the keyboard and screen readers start at its
// heading, not at the link (now hidden) that led there. The compare view focuses its own.
function navigate() {
  route();
  const heading = ["#trials-table", "#jobs-title", "#job-title", "#config-title"]
    .map((selector) => $(selector)).find((el) => el.offsetParent !== null);
  if ($("#compare-jobs-view").hidden) heading?.focus({ preventScroll: !$("#jobs-view").hidden });
}

// A control focused in a table that scrolls sideways comes wholly into view, its focus ring
// too (the browser scrolls only a control it cannot see at all).
document.addEventListener("focusin", (event) => {
  if (event.target.closest?.(".table-wrap, .jobs-list")) {
    event.target.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
});

// "Skip to content" focuses the main region itself: following its #main would route away.
$(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  $("#main").focus();
});

boot();
