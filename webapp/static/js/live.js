// Following one job live: Socket.IO namespace /jobs, room joined with `join`.
// On every (re)connect the server sends a fresh `snapshot`, so a missed event is
// harmless. While the socket is down (or the client library is missing) the job is
// re-read over REST every few seconds instead.

import { allTrials, api } from "./api.js";

export const EVENT_TYPES = [
  "job_status",
  "trial_started",
  "trial_progress",
  "trial_finished",
  "job_progress",
  "job_finished",
];
export const POLL_MS = 4000;

let ioPromise = null;
function loadSocketIo() {
  // Resolved through the import map in index.html (static/vendor, built by webapp/frontend).
  ioPromise ??= import("socket.io-client").then((m) => m.io).catch((error) => {
    console.warn("socket.io-client is unavailable; falling back to polling", error);
    return null;
  });
  return ioPromise;
}

// handlers: onSnapshot({job, trials}), onEvent(event), onConnection(state) where state is
// "connecting" | "live" | "reconnecting" | "polling" ("polling": the socket is down, or
// blocked for good by a proxy, while REST reads work; the socket keeps retrying behind it).
export function follow(jobId, handlers) {
  let stopped = false;
  let socket = null;
  let pollTimer = null;
  let polled = false; // the last REST read worked while the socket was down

  const setState = (state) => !stopped && handlers.onConnection?.(state);
  const socketDown = () => {
    if (!polled) setState("reconnecting"); // each failed retry must not undo "polling"
    startPolling();
  };

  async function pollOnce() {
    try {
      const [job, trials] = await Promise.all([api.job(jobId), allTrials(jobId)]);
      if (stopped) return;
      handlers.onSnapshot({ job, trials });
      if (!socket?.connected) {
        polled = true;
        setState("polling");
      }
    } catch (error) {
      polled = false;
      if (!stopped) handlers.onError?.(error);
    }
  }
  function startPolling() {
    if (pollTimer || stopped) return;
    pollOnce();
    pollTimer = setInterval(pollOnce, POLL_MS);
  }
  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  setState("connecting");
  loadSocketIo().then((io) => {
    if (stopped) return;
    if (!io) {
      setState("polling");
      startPolling();
      return;
    }
    socket = io("/jobs", { reconnectionDelayMax: 5000 });
    socket.on("connect", () => {
      stopPolling();
      polled = false;
      // live once joined: the server sends the snapshot, then every event after it
      socket.emit("join", { job_id: jobId }, (ack) => {
        if (ack?.ok) {
          setState("live");
        } else { // not joined (records unavailable): REST carries on
          setState("polling");
          startPolling();
        }
      });
    });
    socket.on("disconnect", socketDown);
    socket.on("connect_error", socketDown);
    socket.on("snapshot", (data) => {
      if (!stopped && data && data.job && data.job.id === jobId) handlers.onSnapshot(data);
    });
    for (const type of EVENT_TYPES) {
      socket.on(type, (event) => {
        if (!stopped && event && event.job_id === jobId) handlers.onEvent(event);
      });
    }
  });

  return {
    stop() {
      stopped = true;
      stopPolling();
      if (socket) socket.disconnect();
    },
    refresh: pollOnce,
  };
}
