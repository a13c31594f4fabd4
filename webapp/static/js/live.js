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

// One Socket.IO connection per page, shared by every job followed: moving to another job
// leaves one room and joins the next instead of closing the socket. (A socket closed
// while the server still wrote to it made chromium report "Data frame received after
// close": the server's WebSocket can send a frame it had in hand after its Close.)
const LEAVE_ACK_MS = 5000;
let shared = null; // { socket, followers: Set, leaving: Map(jobId -> Promise), down }

function sharedSocket(io) {
  if (shared) {
    if (!shared.socket.active) shared.socket.connect(); // the server had disconnected it
    return shared;
  }
  const socket = io("/jobs", { reconnectionDelayMax: 5000 });
  const state = { socket, followers: new Set(), leaving: new Map(), down: false };
  const each = (call) => [...state.followers].forEach(call);
  socket.on("connect", () => {
    state.down = false;
    state.leaving.clear(); // a new connection is in no room
    each((follower) => follower.joined());
  });
  const down = () => {
    state.down = true;
    each((follower) => follower.down());
  };
  socket.on("disconnect", down);
  socket.on("connect_error", down);
  socket.on("snapshot", (data) => each((follower) => follower.snapshot(data)));
  for (const type of EVENT_TYPES) {
    socket.on(type, (event) => each((follower) => follower.event(event)));
  }
  shared = state;
  return state;
}

// Leave ``jobId``'s room; a later join of the same job waits for the server to have left,
// or it could be handled first (the server runs each event in a thread of its own).
function leave(state, jobId) {
  if (!state.socket.connected) return;
  const left = new Promise((resolve) => {
    state.socket.timeout(LEAVE_ACK_MS).emit("leave", { job_id: jobId }, () => resolve());
  });
  state.leaving.set(jobId, left);
  left.then(() => state.leaving.get(jobId) === left && state.leaving.delete(jobId));
}

// handlers: onSnapshot({job, trials}), onEvent(event), onConnection(state) where state is
// "connecting" | "live" | "reconnecting" | "polling" ("polling": the socket is down, or
// blocked for good by a proxy, while REST reads work; the socket keeps retrying behind it).
export function follow(jobId, handlers) {
  let stopped = false;
  let state = null; // the shared socket, once the client library has loaded
  let pollTimer = null;
  let polled = false; // the last REST read worked while the socket was down

  const setState = (name) => !stopped && handlers.onConnection?.(name);
  const socketDown = () => {
    if (!polled) setState("reconnecting"); // each failed retry must not undo "polling"
    startPolling();
  };

  async function pollOnce() {
    try {
      const [job, trials] = await Promise.all([api.job(jobId), allTrials(jobId)]);
      if (stopped) return;
      handlers.onSnapshot({ job, trials });
      if (!state?.socket.connected) {
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

  const follower = {
    jobId,
    // live once joined: the server sends the snapshot, then every event after it
    async joined() {
      await state.leaving.get(jobId);
      if (stopped || !state.socket.connected) return;
      state.socket.emit("join", { job_id: jobId }, (ack) => {
        if (stopped) return;
        if (ack?.ok) {
          stopPolling();
          polled = false;
          setState("live");
        } else { // not joined (records unavailable): REST carries on
          setState("polling");
          startPolling();
        }
      });
    },
    down: socketDown,
    snapshot(data) {
      if (data && data.job && data.job.id === jobId) handlers.onSnapshot(data);
    },
    event(event) {
      if (event && event.job_id === jobId) handlers.onEvent(event);
    },
  };

  setState("connecting");
  loadSocketIo().then((io) => {
    if (stopped) return;
    if (!io) {
      setState("polling");
      startPolling();
      return;
    }
    state = sharedSocket(io);
    state.followers.add(follower);
    if (state.socket.connected) follower.joined();
    else if (state.down) socketDown();
  });

  return {
    stop() {
      stopped = true;
      stopPolling();
      if (!state) return;
      state.followers.delete(follower);
      if (![...state.followers].some((other) => other.jobId === jobId)) leave(state, jobId);
    },
    refresh: pollOnce,
  };
}
