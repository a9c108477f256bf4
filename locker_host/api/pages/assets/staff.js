// The staff / technician dashboard.
//
// The map, the waiting items and the overdue counts are drawn from the state
// snapshot that the stream pushes after every commit, so they are never older
// than the locker's last decision. Alarms are read again whenever the stream
// says something changed; board health (counters the snapshot does not carry)
// every few seconds. What the token may do is learnt by asking: a technician
// token can read board health, a staff token cannot, and the page hides the
// technician's buttons accordingly (the API enforces it either way).

import { call, download, stream, takeToken } from "./api.js";
import { errorText, lang, loadMessages, onLangChange, setLang, t, translate } from "./i18n.js";
import { KNOWN_STATES, displayState, renderMap } from "./lockermap.js";

const BOARDS_EVERY_MS = 5000;
const $ = (selector) => document.querySelector(selector);
const board = {
  token: null,
  role: "staff",
  snapshot: null,
  alarms: [],
  boards: null,
  audit: [],
  departments: new Map(), // id -> {zh, en}: the configuration's names
  selected: null,
  streamStatus: "lost",
};
window.dashboard = board; // for the browser tests and a technician's console: read-only use

// A department by its configured name in the page's language; its id if it has none.
function departmentName(id) {
  const labels = board.departments.get(id);
  return labels?.[lang()] || labels?.zh || id;
}

function stateName(state) {
  const key = `state.${state}`;
  const text = t(key);
  return text === key ? state : text;
}

// A value's words ("kind.dossier", "stage.held", "reading.open"), or the value itself.
function word(group, value) {
  const key = `${group}.${value}`;
  const text = t(key);
  return text === key ? value : text;
}

function formatTime(value) {
  if (value === null || value === undefined) return "";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return date.toLocaleString(lang() === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (className) td.className = className;
  row.append(td);
  return td;
}

function toast(text, bad = false) {
  const element = $("#toast");
  element.textContent = text;
  element.classList.toggle("bad", bad);
  element.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    element.hidden = true;
  }, 6000);
}

function replyToast(reply, success) {
  if (reply.ok) toast(success(reply));
  else toast(`${errorText(reply.error?.code)} (${reply.error?.code})`, true);
}

// -- drawing -------------------------------------------------------------------------

function render() {
  const snapshot = board.snapshot;
  if (!snapshot) return;
  $("#where").textContent = `${snapshot.site} · ${snapshot.locker}`;
  $("#clock-banner").hidden = snapshot.clock_trusted !== false;
  renderMap($("#map"), snapshot.compartments, {
    boards: snapshot.boards,
    label: (_, state) => stateName(state),
    onSelect: (id) => {
      board.selected = id;
      render();
    },
    selected: board.selected,
  });
  renderLegend();
  renderDetail();
  renderItems();
  renderAlarms();
  renderBoards();
}

function renderLegend() {
  const legend = $("#legend");
  legend.replaceChildren();
  for (const state of KNOWN_STATES) {
    const item = document.createElement("li");
    item.className = `state-${state}`;
    item.textContent = stateName(state);
    legend.append(item);
  }
}

function renderDetail() {
  const compartment = board.snapshot?.compartments.find((c) => c.compartment === board.selected);
  $("#detail").hidden = !compartment;
  $("#select-hint").hidden = Boolean(compartment);
  if (!compartment) return;
  const state = displayState(compartment, board.snapshot.boards);
  $("#detail-title").textContent = `${compartment.compartment} · ${compartment.size} · ${stateName(state)}`;
  const facts = $("#detail-facts");
  facts.replaceChildren();
  for (const [label, value] of [
    [t("staff.door"), word("reading", compartment.door)],
    [t("staff.item"), word("reading", compartment.item)],
    [t("staff.faults"), (compartment.faults ?? []).join(", ") || "–"],
  ]) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    facts.append(dt, dd);
  }
  itemRows($("#detail-items tbody"), compartment.items ?? [], (item) => item.item);
  const out = compartment.state === "out_of_service";
  document.querySelector('[data-action="out"]').hidden = out;
  document.querySelector('[data-action="in"]').hidden = !out;
}

// One row per item: what `first` names it by (its number, or its compartment), then the rest.
function itemRows(body, items, first) {
  body.replaceChildren();
  for (const item of items) {
    const row = document.createElement("tr");
    cell(row, first(item));
    cell(row, word("kind", item.kind));
    cell(row, word("stage", item.stage), item.stage === "overdue" ? "overdue" : "");
    cell(row, departmentName(item.department));
    cell(row, formatTime(item.deadline_wall_s));
    body.append(row);
  }
}

function allItems() {
  return (board.snapshot?.compartments ?? []).flatMap((compartment) =>
    (compartment.items ?? []).map((item) => ({ ...item, compartment: compartment.compartment })),
  );
}

function renderItems() {
  const items = allItems();
  itemRows($("#items tbody"), items, (item) => item.compartment);
  $("#no-items").hidden = items.length > 0;
  $("#item-count").textContent = items.length ? String(items.length) : "";

  const overdue = new Map();
  for (const item of items.filter((i) => i.stage === "overdue")) {
    const entry = overdue.get(item.department) ?? { count: 0, compartments: new Set() };
    entry.count += 1;
    entry.compartments.add(item.compartment);
    overdue.set(item.department, entry);
  }
  const overdueBody = $("#overdue tbody");
  overdueBody.replaceChildren();
  for (const [department, entry] of [...overdue].sort()) {
    const row = document.createElement("tr");
    row.dataset.department = department;
    cell(row, departmentName(department));
    cell(row, String(entry.count), "overdue");
    cell(row, [...entry.compartments].sort().join(", "));
    overdueBody.append(row);
  }
  $("#no-overdue").hidden = overdue.size > 0;
  const select = $("#recall-department");
  const departments = [...new Set(items.map((i) => i.department))].sort();
  const chosen = select.value;
  select.replaceChildren(select.options[0]);
  for (const department of departments) {
    const option = document.createElement("option");
    option.value = department;
    option.textContent = departmentName(department);
    select.append(option);
  }
  select.value = departments.includes(chosen) ? chosen : "";
}

function renderAlarms() {
  const list = $("#alarms");
  list.replaceChildren();
  const active = board.alarms.filter((alarm) => alarm.active !== false);
  for (const alarm of active) {
    const item = document.createElement("li");
    item.dataset.alarm = alarm.alarm_id;
    item.classList.toggle("acknowledged", Boolean(alarm.acknowledged));
    const what = document.createElement("span");
    what.className = "what";
    const key = `alarm.${alarm.kind}`;
    what.textContent = `${alarm.compartment ?? alarm.board ?? ""} ${t(key) === key ? alarm.kind : t(key)}`;
    if (alarm.acknowledged) {
      const by = document.createElement("small");
      by.textContent = t("staff.by", { by: alarm.acknowledged.by, at: formatTime(alarm.acknowledged.at) });
      what.append(by);
    } else {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = t("staff.ack");
      button.addEventListener("click", () => acknowledge(alarm.alarm_id));
      item.append(button);
    }
    item.prepend(what);
    list.append(item);
  }
  if (active.length === 0) {
    const none = document.createElement("li");
    none.className = "none";
    none.textContent = t("staff.no_alarms");
    list.append(none);
  }
  $("#alarm-count").textContent = active.filter((a) => !a.acknowledged).length || "";
}

function renderBoards() {
  const body = $("#boards tbody");
  body.replaceChildren();
  $("#boards-hidden").hidden = board.boards !== null;
  $("#boards").hidden = board.boards === null;
  for (const bus of board.boards ?? []) {
    for (const entry of bus.boards ?? []) {
      const row = document.createElement("tr");
      row.dataset.board = entry.board;
      cell(row, entry.board);
      cell(row, entry.health, entry.health === "online" ? "" : "overdue");
      cell(row, `${bus.port?.path ?? ""} (${bus.port?.state ?? ""})`);
      cell(row, `${entry.replies}/${entry.transactions}`);
      cell(row, entry.round_trip_mean_s == null ? "–" : `${(entry.round_trip_mean_s * 1000).toFixed(1)} ms`);
      cell(row, entry.identity ?? ""); // what the board says of itself (model, firmware, its last reset)
      body.append(row);
    }
  }
}

function renderAudit() {
  const body = $("#audit tbody");
  body.replaceChildren();
  for (const entry of board.audit) {
    const row = document.createElement("tr");
    cell(row, String(entry.seq));
    cell(row, formatTime(entry.recorded_at));
    cell(row, entry.actor);
    cell(row, entry.action);
    cell(row, entry.outcome, entry.outcome === "ok" ? "" : "overdue");
    cell(row, entry.compartment ?? "");
    // The words first (a purpose, the reason staff typed), then the rest as data.
    const { detail, ...rest } = entry.details ?? {};
    const details = detail ? `${detail} · ${JSON.stringify(rest)}` : JSON.stringify(rest);
    cell(row, details.length > 160 ? `${details.slice(0, 160)}…` : details, "details").title = details;
    body.append(row);
  }
}

// -- reading ---------------------------------------------------------------------------

async function loadAlarms() {
  const reply = await call("/alarms", { token: board.token });
  if (reply.ok) {
    board.alarms = reply.alarms ?? [];
    renderAlarms();
  }
}

let alarmsPending = null;
function loadAlarmsSoon() {
  // Many commits in a burst cost one read.
  if (alarmsPending) return;
  alarmsPending = setTimeout(() => {
    alarmsPending = null;
    loadAlarms();
  }, 250);
}

async function loadBoards() {
  const reply = await call("/boards", { token: board.token });
  if (reply.ok) {
    board.boards = reply.buses ?? [];
    renderBoards();
  }
  return reply;
}

function auditQuery() {
  const form = new FormData($("#audit-form"));
  const query = new URLSearchParams();
  for (const [name, value] of form) {
    if (!value) continue;
    if (name === "since" || name === "until") query.set(name, new Date(value).toISOString());
    else query.set(name, value);
  }
  return query.toString();
}

async function loadAudit() {
  const reply = await call(`/audit?${auditQuery()}`, { token: board.token });
  if (!reply.ok) return replyToast(reply, () => "");
  board.audit = reply.entries ?? [];
  renderAudit();
}

// -- acting ------------------------------------------------------------------------------

async function acknowledge(alarmId) {
  const reply = await call(`/alarms/${encodeURIComponent(alarmId)}/ack`, { method: "POST", body: {}, token: board.token });
  replyToast(reply, () => t("staff.acked"));
  loadAlarms();
}

async function act(kind) {
  const compartment = board.selected;
  const reason = $("#reason").value.trim();
  if (!compartment) return;
  if (!reason) {
    toast(errorText("reason_required"), true);
    $("#reason").focus();
    return;
  }
  const reply =
    kind === "open"
      ? await call("/staff/open", { method: "POST", body: { compartment, reason }, token: board.token })
      : await call("/staff/service", {
          method: "POST",
          body: { compartment, in_service: kind === "in", reason },
          token: board.token,
        });
  replyToast(reply, (r) =>
    kind === "open"
      ? t("staff.opened", { doors: (r.opens ?? []).map((o) => o.compartment).join(", ") || compartment })
      : t("staff.service_changed", { compartment }),
  );
  if (reply.ok) $("#reason").value = "";
}

async function recall(event) {
  event.preventDefault();
  const department = $("#recall-department").value || null;
  const reply = await call("/staff/recall", { method: "POST", body: department ? { department } : {}, token: board.token });
  replyToast(reply, (r) => {
    const entries = r.entries ?? [];
    return t("staff.recall_result", { n: entries.length, items: entries.map((e) => `${e.compartment} ${e.item}`).join(", ") || "–" });
  });
}

// -- start ---------------------------------------------------------------------------------

async function main() {
  board.token = takeToken();
  await loadMessages();
  translate(document);
  onLangChange(() => {
    render();
    renderAudit();
    $("#role").textContent = t("staff.role", { role: board.role });
  });
  $("#lang").addEventListener("click", () => setLang(lang() === "zh" ? "en" : "zh"));
  $("#action-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act("open");
  });
  document.querySelector('[data-action="out"]').addEventListener("click", () => act("out"));
  document.querySelector('[data-action="in"]').addEventListener("click", () => act("in"));
  $("#recall-form").addEventListener("submit", recall);
  $("#audit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadAudit();
  });
  $("#audit-csv").addEventListener("click", () => download(`/audit.csv?${auditQuery()}`, board.token, "audit.csv"));

  const first = await call("/state", { token: board.token });
  if (!first.ok) {
    const denied = $("#denied");
    denied.hidden = false;
    denied.textContent = board.token ? `${t("staff.not_allowed")} (${errorText(first.error?.code)})` : t("common.no_token");
    return;
  }
  board.snapshot = first.state;
  const named = await call("/departments", { token: board.token });
  board.departments = new Map((named.departments ?? []).map((d) => [d.id, d.labels]));
  const boards = await loadBoards();
  board.role = boards.ok ? "technician" : "staff";
  document.body.dataset.role = board.role;
  $("#role").textContent = t("staff.role", { role: board.role });
  render();
  await Promise.all([loadAlarms(), loadAudit()]);
  stream(
    board.token,
    {
      state: (snapshot) => {
        board.snapshot = snapshot;
        render();
        loadAlarmsSoon();
      },
      alarm: () => loadAlarmsSoon(),
      kiosk: () => loadAlarmsSoon(),
    },
    (status) => {
      board.streamStatus = status;
      $("#live").dataset.status = status;
    },
  );
  if (board.role === "technician") setInterval(loadBoards, BOARDS_EVERY_MS);
  document.body.dataset.ready = "true";
}

main();
