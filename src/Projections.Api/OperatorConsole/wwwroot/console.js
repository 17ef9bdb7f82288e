// The operator's console: signs in with a pasted token (kept in sessionStorage, sent only in the Authorization header),
// then polls the admin routes ops/projections uses and shows what they answer, each figure with the time it was last
// refreshed. A lost connection is shown at the top and on every figure that stops being refreshed.
import { ConnectionError, createApi, Routes } from "./api.js";
import { drawChart, drawLegend } from "./chart.js";
import { parsePrometheus } from "./prometheus.js";

const TokenKey = "projections-console-token";
const SignedOutKey = "projections-console-signed-out";
const Second = 1000;
const ChartWindow = 5 * 60 * Second;
/** How often each figure is asked for. The admin routes have no live stream, so the status is polled once a second. */
const Every = { projections: Second, rebuilds: Second, health: 2 * Second, ingest: 2 * Second, deadLetters: 5 * Second };

const $ = (id) => document.getElementById(id);
const number = new Intl.NumberFormat();
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const root = new URL("../", location.href); // the service: this page is its /console/
const prometheusPath = document.querySelector('meta[name="prometheus-path"]')?.content ?? "";

let token = sessionStorage.getItem(TokenKey);
const api = createApi(root, () => token);

/** What the page knows, and since when. */
const state = {
  stops: [],
  connection: { lostSince: null, error: "", serviceError: "" },
  report: null,
  lagHistory: new Map(),
  ingest: { previous: null, history: [] },
  rebuilds: new Map(),
  replay: null,
  stamps: new Map(),
};

// ---- Signing in and out -------------------------------------------------------------------------------------------

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  // A token wrapped over lines when it was copied is still the token.
  const pasted = $("token").value.trim().replace(/^Bearer\s+/i, "").replace(/\s+/g, "");
  if (pasted === "") {
    showSignInError("Paste a token first.");
    return;
  }

  if (!/^[A-Za-z0-9._~+/=-]+$/.test(pasted)) {
    showSignInError("This is not a bearer token: a JWT has only letters, digits and . _ - characters.");
    return;
  }

  $("sign-in-button").disabled = true;
  showSignInError("");
  token = pasted;
  try {
    const answer = await call(() => api.get(Routes.projections));
    const refusal = refusalOf(answer);
    if (refusal) {
      token = null;
      $("token").value = ""; // of no use here, and better not left on the page
      showSignInError(refusal);
      renderConnection();
      return;
    }

    sessionStorage.setItem(TokenKey, pasted);
    $("token").value = "";
    start(answer);
  } catch (e) {
    token = null;
    showSignInError(e instanceof ConnectionError ? `Cannot reach the service: ${e.message}` : `Sign-in failed: ${e.message}`);
    renderConnection();
  } finally {
    $("sign-in-button").disabled = false;
  }
});

$("sign-out").addEventListener("click", () => signOut(""));

/** The refusal to show for an answer of 401 or 403, else null (any other answer means the token was accepted). */
function refusalOf(answer) {
  if (answer.status === 401) {
    return `The service did not accept this token: ${answer.detail}`;
  }

  if (answer.status === 403) {
    return "Refused: this token is valid, but it does not have the admin role, and everything in this console is for " +
      `admins only. Sign in with an admin token. (The service answered 403: ${answer.detail})`;
  }

  return null;
}

function showSignInError(message) {
  $("sign-in-error").textContent = message;
}

/** Forgets the token and starts a fresh page, so that nothing of what was shown stays behind; says why when it was not
 * the operator's choice (an expired token, say). */
function signOut(message) {
  state.stops.splice(0).forEach((stop) => stop());
  token = null;
  sessionStorage.removeItem(TokenKey);
  if (message) {
    sessionStorage.setItem(SignedOutKey, message);
  }

  location.reload();
}

function start(firstAnswer) {
  $("sign-in").hidden = true;
  $("console").hidden = false;
  $("who").hidden = false;
  $("who-text").textContent = describeToken(token);
  if (firstAnswer) {
    showProjections(firstAnswer);
  }

  state.stops.push(
    every(Every.projections, refreshProjections, !firstAnswer),
    every(Every.rebuilds, refreshRebuilds),
    every(Every.health, refreshHealth),
    every(Every.ingest, refreshIngest),
    every(Every.deadLetters, refreshDeadLetters),
    every(Second, tick),
  );
  renderConnection();
  $("main").focus();
}

/** Who the token says it is, and until when: read from its payload for display only (the service decides). */
function describeToken(jwt) {
  try {
    const payload = JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    const expires = payload.exp ? `, token expires ${new Date(payload.exp * 1000).toLocaleString()}` : "";
    return `Signed in${payload.sub ? ` as ${payload.sub}` : ""}${expires}`;
  } catch {
    return "Signed in";
  }
}

// ---- Polling ------------------------------------------------------------------------------------------------------

/** Runs the task now (unless told not to) and then every interval, one run at a time; returns what stops it. */
function every(interval, task, runNow = true) {
  let timer = null;
  let stopped = false;
  const run = async () => {
    const started = Date.now();
    try {
      await task();
    } catch (e) {
      if (!(e instanceof ConnectionError)) {
        console.error(e);
      }
    }

    if (!stopped) {
      timer = setTimeout(run, Math.max(0, interval - (Date.now() - started)));
    }
  };
  timer = setTimeout(run, runNow ? 0 : interval);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * Makes a call and keeps the connection state: no answer marks the connection lost (and throws on), any answer marks
 * it back; 401 or 403 while signed in signs out with the service's reason.
 */
async function call(request) {
  try {
    const answer = await request();
    state.connection.lostSince = null;
    state.connection.error = "";
    if (token && sessionStorage.getItem(TokenKey) && (answer.status === 401 || answer.status === 403)) {
      signOut(refusalOf(answer));
    }

    renderConnection();
    return answer;
  } catch (e) {
    if (e instanceof ConnectionError) {
      state.connection.lostSince ??= new Date();
      state.connection.error = e.message;
      renderConnection();
    }

    throw e;
  }
}

function renderConnection() {
  const banner = $("connection");
  const { lostSince, error, serviceError } = state.connection;
  let text, status;
  if (!token) {
    [text, status] = ["Not signed in", "signed-out"];
  } else if (lostSince) {
    [text, status] = [`Connection lost since ${lostSince.toLocaleTimeString()} (${error}). Retrying every second; ` +
      "every figure below keeps the time of its last refresh.", "lost"];
  } else if (serviceError) {
    [text, status] = [`Connected, but the service answers with an error: ${serviceError}`, "degraded"];
  } else {
    [text, status] = [`Connected to ${root.host}: refreshed every second`, "ok"];
  }

  // Only a change is written, so that screen readers announce changes and not every poll.
  if (banner.textContent !== text) {
    banner.textContent = text;
  }

  banner.dataset.state = status;
}

/** Records when a figure was refreshed; tick() shows how long ago, and marks it stale when it stops. */
function stamp(id, interval, at = new Date()) {
  state.stamps.set(id, { at, interval });
  renderStamp(id);
}

function renderStamp(id) {
  const { at, interval } = state.stamps.get(id);
  const element = $(id);
  if (!element) {
    return;
  }

  const age = Date.now() - at.getTime();
  const stale = age > 3 * interval + 2 * Second;
  element.dateTime = at.toISOString();
  element.textContent = `${at.toLocaleTimeString()} (${ago(age)})${stale ? " — stale: not refreshed since" : ""}`;
  element.closest(".as-of")?.classList.toggle("stale", stale);
}

function ago(ms) {
  const seconds = Math.max(0, Math.round(ms / Second));
  return seconds < 120 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
}

function tick() {
  for (const id of state.stamps.keys()) {
    renderStamp(id);
  }

  drawLagChart();
  drawIngestChart();
}

// ---- Projections and their lag ------------------------------------------------------------------------------------

async function refreshProjections() {
  const answer = await call(() => api.get(Routes.projections));
  if (token) {
    showProjections(answer);
  }
}

function showProjections(answer) {
  if (!answer.ok) {
    state.connection.serviceError = `${answer.status}: ${answer.detail}`;
    renderConnection();
    return;
  }

  state.connection.serviceError = "";
  renderConnection();
  const report = answer.body;
  const now = Date.now();
  state.report = report;
  $("high-water-mark").textContent = number.format(report.highWaterMark);
  $("set-aside-total").textContent = number.format(report.deadLetterEvents);
  $("ingest-high-water-mark").textContent = number.format(report.highWaterMark);
  stamp("projections-as-of", Every.projections);
  stamp("ingest-high-water-mark-as-of", Every.projections);

  const body = $("projections-table").tBodies[0];
  for (const p of report.projections) {
    const row = body.querySelector(`tr[data-projection="${CSS.escape(p.name)}"]`) ?? body.appendChild(projectionRow(p.name));
    row.dataset.status = p.status;
    setCell(row, "version", number.format(p.version));
    const badge = row.querySelector('[data-field="status"] .badge');
    badge.textContent = p.status;
    badge.dataset.state = p.status;
    setCell(row, "sequence", number.format(p.sequence));
    setCell(row, "lag-events", number.format(p.lagEvents));
    setCell(row, "lag-seconds", decimal.format(p.lagSeconds));
    setCell(row, "set-aside", number.format(p.deadLetterEvents));
    const notBuilt = p.notBuilt?.length ? `Not built yet: ${p.notBuilt.join(", ")} (rebuild to serve them). ` : "";
    setCell(row, "last-error", `${notBuilt}${p.lastError ?? ""}` || "none");
    row.querySelector('[data-field="last-error"]').classList.toggle("muted", !p.lastError && !notBuilt);

    const history = state.lagHistory.get(p.name) ?? [];
    history.push({ t: now, v: p.lagEvents });
    while (history.length && history[0].t < now - ChartWindow) {
      history.shift();
    }

    state.lagHistory.set(p.name, history);

    // A rebuild this page did not ask for (another operator's, ops/projections', or one from before a reload).
    if (p.rebuild && state.rebuilds.get(p.name)?.rebuildId !== p.rebuild.rebuildId) {
      track(p.name, p.rebuild, "Started elsewhere: by another operator, ops/projections, or before this page was loaded.");
    }
  }

  drawLagChart();
  settleReplay(report).catch(() => {}); // a lost connection is shown already; the next report tries again
}

function projectionRow(name) {
  const row = document.createElement("tr");
  row.dataset.projection = name;
  const heading = document.createElement("th");
  heading.scope = "row";
  heading.dataset.label = "Projection";
  heading.textContent = name;
  row.append(heading);
  for (const [field, label, numeric] of [["version", "Version"], ["status", "Status"], ["sequence", "Sequence", true],
    ["lag-events", "Lag (events)", true], ["lag-seconds", "Lag (s)", true], ["set-aside", "Set aside", true], ["last-error", "Last error"]]) {
    const cell = document.createElement("td");
    cell.dataset.field = field;
    cell.dataset.label = label;
    cell.classList.toggle("number", !!numeric);
    if (field === "status") {
      cell.append(Object.assign(document.createElement("span"), { className: "badge" }));
    }

    row.append(cell);
  }

  const actions = document.createElement("td");
  actions.dataset.label = "Actions";
  const button = Object.assign(document.createElement("button"), { type: "button", className: "rebuild", textContent: "Rebuild…" });
  button.setAttribute("aria-label", `Rebuild ${name}…`);
  button.addEventListener("click", () => confirmRebuild([name]));
  actions.append(button);
  row.append(actions);
  return row;
}

function setCell(row, field, text) {
  const cell = row.querySelector(`[data-field="${field}"]`);
  if (cell.textContent !== text) {
    cell.textContent = text;
  }
}

function drawLagChart() {
  if (!state.report) {
    return;
  }

  const series = [...state.lagHistory].map(([name, points]) => ({ name, points }));
  drawChart($("lag-chart"), series, { now: Date.now(), windowMs: ChartWindow, gapMs: 3 * Every.projections + Second });
  drawLegend($("lag-legend"), series, (v) => `${number.format(v)} events behind`);
  $("lag-summary").textContent = series.map((s) =>
    `${s.name}: now ${number.format(s.points.at(-1)?.v ?? 0)}, at most ${number.format(Math.max(0, ...s.points.map((p) => p.v)))} events behind.`)
    .join(" ");
}

// ---- Rebuilds -----------------------------------------------------------------------------------------------------

$("rebuild-all").addEventListener("click", () => confirmRebuild(state.report?.projections.map((p) => p.name) ?? []));

async function confirmRebuild(names) {
  if (names.length === 0) {
    return;
  }

  const which = names.length === 1 ? names[0] : `all ${names.length} projections (${names.join(", ")})`;
  const confirmed = await confirmAction(`Rebuild ${names.length === 1 ? names[0] : "all projections"}?`,
    `This replays ${which} from the first event into the idle copy, while reads go on from the current version. ` +
    "It switches to the new version when it has caught up; the version number then goes up by one. On a large event " +
    "store this takes a while and loads the database.", names.length === 1 ? `Rebuild ${names[0]}` : "Rebuild all");
  if (confirmed) {
    for (const name of names) {
      await requestRebuild(name);
    }
  }
}

async function requestRebuild(name) {
  let answer;
  try {
    answer = await call(() => api.post(Routes.rebuild(name)));
  } catch (e) {
    message(name, `Could not ask for the rebuild (${e.message}). If the request arrived, it shows here once the connection is back.`);
    return;
  }

  if (answer.status === 202) {
    track(name, answer.body, null);
  } else if (answer.status === 409 && answer.body?.statusUrl) {
    track(name, answer.body, `Not started: ${answer.detail} Showing that rebuild instead.`);
  } else if (answer.status === 409) {
    message(name, `Not started: ${answer.detail}`);
  } else {
    message(name, `The service refused the rebuild (${answer.status}): ${answer.detail}`);
  }
}

/** Follows a rebuild on its status URL until it completes or fails. */
function track(projection, { rebuildId, statusUrl }, note) {
  state.rebuilds.set(projection, { projection, rebuildId, statusUrl, note, samples: [], status: null });
  renderRebuild(projection);
  refreshRebuilds().catch(() => {}); // at once, not at the next second; a lost connection is shown already
}

/** A rebuild that was not started: the reason, in the same place. */
function message(projection, note) {
  state.rebuilds.set(projection, { projection, rebuildId: null, statusUrl: null, note, samples: [], status: { status: "not started" } });
  renderRebuild(projection);
}

async function refreshRebuilds() {
  const following = [...state.rebuilds.values()].filter((r) => r.statusUrl && (!r.status || r.status.status === "running"));
  for (const rebuild of following) {
    const answer = await call(() => api.get(rebuild.statusUrl));
    if (!token || state.rebuilds.get(rebuild.projection) !== rebuild) {
      continue; // dismissed, or replaced by another meanwhile
    }

    if (answer.ok) {
      rebuild.status = answer.body;
      rebuild.samples.push({ t: Date.now(), processed: answer.body.processed });
      rebuild.samples = rebuild.samples.filter((s) => s.t >= Date.now() - 10 * Second);
    } else if (answer.status === 404) {
      rebuild.status = { status: "unknown" };
      rebuild.note = `The service no longer knows this rebuild: ${answer.detail}`;
    }

    // A finished rebuild's figures are final: they are not asked for again, and do not go stale.
    const finished = rebuild.status?.status !== "running";
    stamp(`rebuild-${rebuild.projection}-as-of`, finished ? Infinity : Every.rebuilds);
    renderRebuild(rebuild.projection);
  }
}

function renderRebuild(projection) {
  const rebuild = state.rebuilds.get(projection);
  const list = $("rebuilds");
  let item = list.querySelector(`li[data-projection="${CSS.escape(projection)}"]`);
  if (!item) {
    item = list.appendChild(rebuildItem(projection));
  }

  const status = rebuild.status?.status ?? "requested";
  item.dataset.status = status;
  item.querySelector(".rebuild-state").textContent = status;
  item.querySelector(".rebuild-id").textContent = rebuild.rebuildId ?? "";
  const note = item.querySelector(".rebuild-note");
  note.textContent = rebuild.note ?? "";
  note.hidden = !rebuild.note;
  const progress = item.querySelector("progress");
  progress.hidden = !rebuild.statusUrl;
  item.querySelector(".as-of").hidden = !rebuild.statusUrl;
  item.querySelector(".dismiss").hidden = status === "running" || status === "requested";
  const figures = item.querySelector(".rebuild-figures");
  if (rebuild.status?.percent !== undefined) {
    const { percent, processed, total } = rebuild.status;
    progress.value = percent;
    progress.textContent = `${decimal.format(percent)} %`;
    figures.textContent = [`${decimal.format(percent)} %`, `sequence ${number.format(processed)} of ${number.format(total)}`,
      ...rateAndEstimate(rebuild)].join(" · ");
  } else {
    progress.removeAttribute("value"); // indeterminate until the first answer
    figures.textContent = rebuild.statusUrl ? "waiting for the first progress report…" : "";
  }

  $("rebuilds-empty").hidden = list.children.length > 0;
}

/** Events replayed per second over the last 10 s, and the time left at that rate; or how long it took. */
function rateAndEstimate({ status, samples }) {
  if (status.status === "completed" || status.status === "failed") {
    const took = status.finishedAt ? (new Date(status.finishedAt) - new Date(status.requestedAt)) / Second : null;
    return [`${status.status}${took === null ? "" : ` in ${decimal.format(took)} s`}`, ...(status.error ? [status.error] : [])];
  }

  const [first, last] = [samples[0], samples.at(-1)];
  if (!first || last.t - first.t < Second || status.processed === 0) {
    return ["estimating…"];
  }

  const rate = (last.processed - first.processed) / ((last.t - first.t) / Second);
  if (rate <= 0) {
    return ["0 events/s", "no estimate yet"];
  }

  const left = Math.max(0, status.total - status.processed) / rate;
  return [`${number.format(Math.round(rate))} events/s`, `about ${left < 90 ? `${Math.ceil(left)} s` : `${Math.ceil(left / 60)} min`} left`];
}

function rebuildItem(projection) {
  const item = document.createElement("li");
  item.dataset.projection = projection;
  item.innerHTML = `
    <p class="rebuild-head"><strong></strong> <span class="badge rebuild-state"></span> <span class="rebuild-id muted"></span></p>
    <progress max="100"></progress>
    <p class="rebuild-figures"></p>
    <p class="rebuild-note"></p>
    <p class="as-of">Updated <time>never</time></p>
    <button type="button" class="dismiss quiet">Dismiss</button>`;
  const id = `rebuild-${projection}`;
  const title = item.querySelector("strong");
  title.id = `${id}-title`;
  title.textContent = `Rebuild of ${projection}`;
  item.querySelector("progress").setAttribute("aria-labelledby", title.id);
  item.querySelector("time").id = `${id}-as-of`;
  const dismiss = item.querySelector(".dismiss");
  dismiss.setAttribute("aria-label", `Dismiss the rebuild of ${projection}`);
  dismiss.addEventListener("click", () => {
    state.rebuilds.delete(projection);
    state.stamps.delete(`${id}-as-of`);
    item.remove();
    $("rebuilds-empty").hidden = $("rebuilds").children.length > 0;
  });
  return item;
}

// ---- Set-aside events ---------------------------------------------------------------------------------------------

async function refreshDeadLetters() {
  const answer = await call(() => api.get(Routes.deadLetters));
  if (!answer.ok || !token) {
    return;
  }

  const events = answer.body.deadLetterEvents;
  const table = $("dead-letters-table");
  table.hidden = events.length === 0;
  $("dead-letters-empty").textContent = "No events are set aside.";
  $("dead-letters-empty").hidden = events.length > 0;
  $("replay-all").disabled = events.length === 0;
  table.tBodies[0].replaceChildren(...events.map(deadLetterRow));
  stamp("dead-letters-as-of", Every.deadLetters);
  return events;
}

function deadLetterRow(e) {
  const row = document.createElement("tr");
  row.dataset.event = e.id;
  const cells = [["Event id", e.id], ["Projection", e.projection], ["Sequence", number.format(e.sequence), true], ["Type", e.type],
    ["Reason", e.reason], ["Set aside", new Date(e.setAsideAt).toLocaleString()], ["Attempts", number.format(e.attempts), true]];
  for (const [label, text, numeric] of cells) {
    const cell = document.createElement("td");
    Object.assign(cell.dataset, { label });
    cell.textContent = text;
    cell.classList.toggle("number", !!numeric);
    row.append(cell);
  }

  const actions = document.createElement("td");
  actions.dataset.label = "Actions";
  const button = Object.assign(document.createElement("button"), { type: "button", className: "quiet", textContent: "Replay" });
  button.setAttribute("aria-label", `Replay event ${e.id}`);
  button.addEventListener("click", () => replay(e.id));
  actions.append(button);
  row.append(actions);
  return row;
}

$("replay-all").addEventListener("click", async () => {
  if (await confirmAction("Replay every set-aside event?",
    "Each projection applies the events it set aside again, after the events that followed them. Those that apply are " +
    "counted and leave the list; those that still fail stay, with the new reason.", "Replay all")) {
    await replay(null);
  }
});

async function replay(id) {
  const result = $("replay-result");
  let answer;
  try {
    answer = await call(() => api.post(id ? Routes.replay(id) : Routes.replayAll));
  } catch (e) {
    result.textContent = `Could not ask for the replay: ${e.message}`;
    return;
  }

  if (answer.status !== 202) {
    result.textContent = `The service refused the replay (${answer.status}): ${answer.detail}`;
    return;
  }

  const { replayId, events, sequence } = answer.body;
  state.replay = { id, replayId, events, sequence };
  result.textContent = events === 0
    ? "Nothing was set aside: nothing to replay."
    : `Replaying ${number.format(events)} event(s) (${replayId}): waiting for every projection to reach sequence ${number.format(sequence)}…`;
  if (events === 0) {
    state.replay = null;
  }
}

/** Once every projection has processed the replay request, says what applied and what is still set aside. */
async function settleReplay(report) {
  const replay = state.replay;
  if (!replay || replay.settling || !report.projections.every((p) => p.sequence >= replay.sequence)) {
    return;
  }

  replay.settling = true;
  try {
    const events = await refreshDeadLetters();
    if (events && state.replay === replay) {
      state.replay = null;
      const still = events.filter((e) => replay.id === null || e.id === replay.id).length;
      $("replay-result").textContent = `Replay ${replay.replayId}: ${number.format(replay.events - still)} applied, ` +
        `${number.format(still)} still set aside${still ? " (their reasons are in the list)" : ""}.`;
    }
  } finally {
    replay.settling = false;
  }
}

// ---- Ingest -------------------------------------------------------------------------------------------------------

const Counters = { events: "projections_ingest_events_total", duplicates: "projections_ingest_duplicates_total" };

async function refreshIngest() {
  if (prometheusPath === "") {
    showIngestNote("The Prometheus endpoint is turned off on this service (Telemetry:Prometheus), so no ingest rates.");
    return;
  }

  const answer = await call(() => api.get(prometheusPath, { accept: "text/plain" }));
  if (!answer.ok) {
    showIngestNote(`The Prometheus endpoint (${prometheusPath}) answered ${answer.status}: ${answer.detail}`);
    return;
  }

  const metrics = parsePrometheus(answer.body);
  const now = Date.now();
  const current = {
    t: now,
    events: metrics.value(Counters.events) ?? 0,
    duplicates: metrics.value(Counters.duplicates) ?? 0,
    instance: metrics.labels("target_info").service_instance_id ?? "",
  };
  const previous = state.ingest.previous;
  state.ingest.previous = current;
  stamp("ingest-as-of", Every.ingest);
  if (!previous) {
    showIngestNote("");
    return; // a rate needs two scrapes
  }

  // Counters start at 0 in each process: one that went down, or another instance, is another process.
  if (current.instance !== previous.instance || current.events < previous.events || current.duplicates < previous.duplicates) {
    showIngestNote("The counters restarted (the service restarted, or another node answered): the rates start again.");
    return;
  }

  const seconds = (current.t - previous.t) / Second;
  const point = { t: now, events: (current.events - previous.events) / seconds, duplicates: (current.duplicates - previous.duplicates) / seconds };
  state.ingest.history.push(point);
  state.ingest.history = state.ingest.history.filter((p) => p.t >= now - ChartWindow);
  $("ingest-events-rate").textContent = decimal.format(point.events);
  $("ingest-duplicates-rate").textContent = decimal.format(point.duplicates);
  showIngestNote("");
  drawIngestChart();
}

function showIngestNote(note) {
  const element = $("ingest-problem");
  element.textContent = note;
  element.hidden = note === "";
}

function drawIngestChart() {
  const history = state.ingest.history;
  const series = [
    { name: "events stored", points: history.map((p) => ({ t: p.t, v: p.events })) },
    { name: "duplicates skipped", points: history.map((p) => ({ t: p.t, v: p.duplicates })) },
  ];
  drawChart($("ingest-chart"), series, { now: Date.now(), windowMs: ChartWindow, gapMs: 3 * Every.ingest + Second });
  drawLegend($("ingest-legend"), series, (v) => `${decimal.format(v)}/s`);
  const peak = (s) => decimal.format(Math.max(0, ...s.points.map((p) => p.v)));
  $("ingest-summary").textContent = history.length === 0
    ? "No rate yet: it needs two scrapes."
    : series.map((s) => `${s.name}: now ${decimal.format(s.points.at(-1).v)}/s, at most ${peak(s)}/s.`).join(" ");
}

// ---- Health -------------------------------------------------------------------------------------------------------

async function refreshHealth() {
  const badge = $("health-state");
  let answer;
  try {
    answer = await call(() => api.get(Routes.ready, { anonymous: true, accept: "text/plain" }));
  } catch (e) {
    badge.textContent = "Unreachable";
    badge.dataset.state = "unreachable";
    $("health-detail").textContent = `The service did not answer the probe: ${e.message}. The last answer is from the time below.`;
    throw e;
  }

  // "Healthy", or "Unhealthy: projection GalleryAnalytics is retrying after an error".
  const line = String(answer.body).trim();
  const ready = answer.status === 200;
  badge.textContent = ready ? "Ready" : "Not ready";
  badge.dataset.state = ready ? "ready" : "not-ready";
  const why = line.includes(":") ? line.slice(line.indexOf(":") + 1).trim() : "";
  $("health-detail").textContent = ready
    ? `${line}${why ? "" : ": every check passed"}.`
    : `${why || line} (answered ${answer.status}).`;
  stamp("health-as-of", Every.health);
}

// ---- The confirmation dialog --------------------------------------------------------------------------------------

/** Asks in a modal dialog; resolves true only for the confirm button (Escape and Cancel are a no). */
function confirmAction(title, text, confirmLabel) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = confirmLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    $("confirm-cancel").focus(); // the safe choice is the default
  });
}

$("confirm-ok").addEventListener("click", () => $("confirm").close("ok"));
$("confirm-cancel").addEventListener("click", () => $("confirm").close("cancel"));

// ---- Start --------------------------------------------------------------------------------------------------------

if (token) {
  start(null);
} else {
  showSignInError(sessionStorage.getItem(SignedOutKey) ?? "");
  sessionStorage.removeItem(SignedOutKey);
  renderConnection();
}
