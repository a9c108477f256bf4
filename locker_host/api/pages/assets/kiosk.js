// The kiosk page: one screen at a time, driven by touches and by the stream.
//
// A card at the physical reader is handled by lockerd (a pickup, or the
// drop-off armed from this page); the stream's `kiosk` event says what it
// did, and the page shows it. Codes typed here are posted and their reply
// shown directly; the same presentation's `kiosk` event (source "http")
// that follows is then ignored. After an open, `state` events tell when the
// door opened, when it closed and what is inside now: the receipt number of
// a drop-off is the new dossier's item id.
//
// Query parameters (for the hall's set-up and the tests): idle_s = seconds
// of inactivity before a choice screen returns to the start (default 60),
// result_s = how long a result stays on screen (default 20).

import { call, stream, takeToken } from "./api.js";
import { errorText, errorTextOther, lang, loadMessages, onLangChange, setLang, t, translate } from "./i18n.js";
import { renderMap } from "./lockermap.js";
import { initSpeech, speak } from "./speech.js";

const params = new URLSearchParams(location.search);
const seconds = (name, fallback) => {
  const value = Number(params.get(name));
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const IDLE_S = seconds("idle_s", 60);
const RESULT_S = seconds("result_s", 20);
const FLOW_S = 300; // an open door waits for lockerd to conclude the open, within reason
const OWN_ECHO_MS = 5000;
const CODE_MAX = 16;
const CODE_MIN = 4;

const $ = (selector) => document.querySelector(selector);
const kiosk = {
  token: null,
  snapshot: null,
  services: [],
  sizes: ["S", "M", "L"],
  printer: false,
  screen: "idle",
  render: null, // re-draws the current screen's dynamic text after a language switch
  deadline: null,
  armed: false,
  ownUntil: 0,
  flow: null,
  choice: { service: null, size: null, accessible: false },
  code: { purpose: "pickup", digits: "" },
};
window.kiosk = kiosk; // for a technician's console and the browser tests: read-only use

// -- screens ------------------------------------------------------------------------

function show(name, { timeout = IDLE_S, render = null, say = null } = {}) {
  kiosk.screen = name;
  for (const section of document.querySelectorAll("section[data-screen]")) {
    section.hidden = section.dataset.screen !== name;
  }
  document.body.dataset.showing = name;
  kiosk.render = render;
  if (render) render();
  kiosk.deadline = name === "idle" ? null : Date.now() + timeout * 1000;
  tick();
  if (say) speak(say(), lang());
}

function goIdle() {
  if (kiosk.armed) {
    kiosk.armed = false;
    call("/kiosk/cancel", { method: "POST", body: {}, token: kiosk.token });
  }
  kiosk.flow = null;
  kiosk.code.digits = "";
  kiosk.choice = { service: null, size: null, accessible: false };
  setLang("zh"); // the next person starts in Chinese
  show("idle");
}

function go(target) {
  switch (target) {
    case "idle":
      return goIdle();
    case "pickup":
      return show("pickup-swipe", { say: () => t("pickup.swipe_title") });
    case "dropoff":
      return showServices();
    case "dropoff-service":
      return showServices();
    case "code-pickup":
      return showCode("pickup");
    case "code-dropoff":
      return showCode("dropoff");
  }
}

function tick() {
  const countdown = $("#countdown");
  if (kiosk.deadline === null) {
    countdown.textContent = "";
    return;
  }
  const left = Math.ceil((kiosk.deadline - Date.now()) / 1000);
  if (left <= 0) return goIdle();
  countdown.textContent = left <= 30 ? t("common.seconds_left", { n: left }) : "";
}

function touched() {
  // A person still at the screen: choice screens wait for them again.
  if (kiosk.deadline !== null && kiosk.screen !== "opened" && kiosk.screen !== "done" && kiosk.screen !== "error") {
    kiosk.deadline = Date.now() + IDLE_S * 1000;
  }
}

// -- drop-off choices -----------------------------------------------------------------

function serviceTitle(service) {
  return (lang() === "zh" ? service.title_zh : service.title_en) || service.name;
}

async function loadServices() {
  const reply = await call("/kiosk/services", { token: kiosk.token });
  if (!reply.ok) return reply;
  kiosk.services = reply.services ?? [];
  kiosk.sizes = reply.sizes ?? kiosk.sizes;
  kiosk.printer = Boolean(reply.receipt_printer);
  return reply;
}

async function showServices() {
  const reply = await loadServices();
  if (!reply.ok) return showError(reply.error?.code);
  show("dropoff-service", {
    render: () => {
      const list = $("#services");
      list.replaceChildren();
      for (const service of kiosk.services) {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.service = service.name;
        button.textContent = serviceTitle(service);
        button.addEventListener("click", () => showSizes(service));
        list.append(button);
      }
      $("#no-services").hidden = kiosk.services.length > 0;
    },
    say: () => t("dropoff.service_title"),
  });
}

function showSizes(service) {
  kiosk.choice.service = service;
  show("dropoff-size", {
    render: () => {
      $("#size-service").textContent = serviceTitle(service);
      const list = $("#sizes");
      list.replaceChildren();
      for (const size of [null, ...kiosk.sizes]) {
        const button = document.createElement("button");
        button.type = "button";
        button.setAttribute("role", "radio");
        button.dataset.size = size ?? "auto";
        button.setAttribute("aria-checked", String(kiosk.choice.size === size));
        button.textContent = size
          ? t(`dropoff.size_${size}`)
          : service.size
            ? t("dropoff.size_auto_with", { size: t(`size.${service.size}`) })
            : t("dropoff.size_auto");
        button.addEventListener("click", () => {
          kiosk.choice.size = size;
          kiosk.render();
        });
        list.append(button);
      }
      $("#accessible").setAttribute("aria-checked", String(kiosk.choice.accessible));
    },
    say: () => t("dropoff.size_title"),
  });
}

async function arm() {
  const { service, size, accessible } = kiosk.choice;
  const reply = await call("/kiosk/dropoff", {
    method: "POST",
    body: { service: service.name, size, accessible },
    token: kiosk.token,
  });
  if (!reply.ok) return showError(reply.error?.code);
  kiosk.armed = true;
  show("dropoff-swipe", {
    render: () => {
      $("#armed-service").textContent = t("dropoff.swipe_hint", { service: serviceTitle(service) });
    },
    say: () => t("dropoff.swipe_title"),
  });
}

// -- codes ----------------------------------------------------------------------------

function showCode(purpose) {
  kiosk.code = { purpose, digits: "" };
  show("code", {
    render: () => {
      $("#code-title").textContent = t(purpose === "pickup" ? "code.pickup_title" : "code.dropoff_title");
      renderCode();
    },
    say: () => t(purpose === "pickup" ? "code.pickup_title" : "code.dropoff_title"),
  });
}

function renderCode() {
  $("#code-display").textContent = kiosk.code.digits;
  $("#code-submit").disabled = kiosk.code.digits.length < CODE_MIN;
}

function key(name) {
  const code = kiosk.code;
  if (name === "delete") code.digits = code.digits.slice(0, -1);
  else if (name === "clear") code.digits = "";
  else if (code.digits.length < CODE_MAX) code.digits += name;
  renderCode();
}

async function submitCode() {
  const { purpose, digits } = kiosk.code;
  kiosk.code.digits = ""; // never kept past the request
  $("#code-submit").disabled = true;
  $("#code-display").textContent = t("code.sending");
  const path = purpose === "pickup" ? "/kiosk/pickup-code" : "/kiosk/dropoff-code";
  const body = purpose === "pickup" ? { code: digits } : { code: digits, accessible: kiosk.choice.accessible };
  kiosk.ownUntil = Date.now() + OWN_ECHO_MS;
  const reply = await call(path, { method: "POST", body, token: kiosk.token });
  kiosk.ownUntil = Date.now() + OWN_ECHO_MS;
  if (reply.ok && purpose === "dropoff") kiosk.armed = false;
  handleReply(purpose, reply);
}

// -- what a presentation did ----------------------------------------------------------

function compartmentOf(id) {
  return kiosk.snapshot?.compartments?.find((c) => c.compartment === id);
}

function kindOf(action, opens) {
  if (action === "pickup" || action === "dropoff") return action;
  const first = compartmentOf(opens[0]?.compartment);
  if (first?.state === "dropoff") return "dropoff";
  if (kiosk.screen === "code") return kiosk.code.purpose;
  return kiosk.armed ? "dropoff" : "pickup";
}

function handleReply(action, reply) {
  if (reply?.staff_open) return showStaff(reply);
  if (!reply?.ok) return showError(reply?.error?.code);
  if (reply.result === "opening") {
    const opens = reply.opens ?? [];
    if (opens.length === 0) return showError("nothing_for_you");
    return startFlow(kindOf(action, opens), opens, reply.unavailable ?? []);
  }
  return showError("http_error");
}

function onKioskEvent(event) {
  if (event.source === "http" && Date.now() < kiosk.ownUntil) return; // our own request's echo
  if (!event.reply) return;
  // Arming and disarming change no screen: this page armed it, or an operator did.
  if (event.action === "arm" || event.action === "disarm") return;
  if (kiosk.screen === "opened" && kiosk.flow) return; // doors already open for this person
  // A card lockerd could not use leaves the drop-off armed (the card is placed again).
  if (event.action === "dropoff" && !READER_CODES.has(event.reply.error?.code)) kiosk.armed = false;
  handleReply(event.action, event.reply);
}

function startFlow(kind, opens, unavailable) {
  const before = new Map();
  for (const open of opens) {
    const compartment = compartmentOf(open.compartment);
    before.set(open.compartment, new Set((compartment?.items ?? []).map((item) => item.item)));
  }
  kiosk.flow = {
    kind,
    doors: opens.map((open) => open.compartment),
    unavailable,
    before,
    seenOpen: new Set(),
    seenOpenId: new Set(),
    closePrompted: false,
  };
  show("opened", {
    timeout: FLOW_S,
    render: renderOpened,
    say: () => `${t(kind === "pickup" ? "opened.pickup_title" : "opened.dropoff_title")}。${doorsText(kiosk.flow.doors)}`,
  });
  checkFlow();
}

function doorsText(doors) {
  return t("opened.doors", { doors: doors.join(lang() === "zh" ? "、" : ", ") });
}

function renderOpened() {
  const flow = kiosk.flow;
  if (!flow) return;
  $("#opened-title").textContent = t(flow.kind === "pickup" ? "opened.pickup_title" : "opened.dropoff_title");
  $("#opened-doors").textContent = doorsText(flow.doors);
  $("#opened-prompt").textContent = flow.seenOpen.size > 0 ? t("opened.close_door") : "";
  const note = $("#opened-unavailable");
  note.hidden = flow.unavailable.length === 0;
  note.textContent = note.hidden ? "" : t("opened.unavailable", { doors: flow.unavailable.join(", ") });
  renderMap($("#opened-map"), kiosk.snapshot?.compartments ?? [], {
    boards: kiosk.snapshot?.boards ?? {},
    targets: flow.doors,
  });
}

function checkFlow() {
  const flow = kiosk.flow;
  if (!flow || kiosk.screen !== "opened") return;
  let concluded = 0;
  for (const door of flow.doors) {
    const compartment = compartmentOf(door);
    if (!compartment) continue;
    if (compartment.door === "open") flow.seenOpen.add(door);
    if (compartment.open_id) flow.seenOpenId.add(door);
    // The open is over once lockerd clears it (door closed, or the open timed out).
    if (!compartment.open_id && (flow.seenOpenId.has(door) || flow.seenOpen.has(door))) concluded += 1;
  }
  if (flow.seenOpen.size > 0 && !flow.closePrompted) {
    flow.closePrompted = true;
    speak(t("opened.close_door"), lang());
  }
  if (concluded === flow.doors.length) return finishFlow(flow);
  renderOpened();
}

function finishFlow(flow) {
  kiosk.flow = null;
  if (flow.kind === "dropoff") {
    const door = flow.doors[0];
    const items = compartmentOf(door)?.items ?? [];
    const fresh = items.filter((item) => item.kind === "dossier" && !flow.before.get(door)?.has(item.item));
    if (fresh.length > 0) return showReceipt(fresh.map((item) => item.item).join(" "));
    return showDone(flow.seenOpen.size ? "done.abandoned" : "done.not_opened", false);
  }
  const left = flow.doors.filter((door) =>
    (compartmentOf(door)?.items ?? []).some((item) => flow.before.get(door)?.has(item.item)),
  );
  if (left.length === 0) return showDone("done.pickup_title", true);
  return showDone(flow.seenOpen.size ? "done.not_taken" : "done.not_opened", false);
}

function showReceipt(number) {
  show("done", {
    timeout: RESULT_S,
    render: () => {
      $("#done-mark").hidden = false;
      $("#done-title").textContent = t("done.receipt_title");
      $("#receipt").hidden = false;
      $("#receipt-number").textContent = number;
      $("#done-text").textContent = t(kiosk.printer ? "done.receipt_printed" : "done.receipt_keep");
    },
    say: () => `${t("done.receipt_title")}。${t("done.receipt_label")} ${number}`,
  });
}

function showDone(key, good, vars = {}) {
  show("done", {
    timeout: RESULT_S,
    render: () => {
      $("#done-mark").hidden = !good;
      $("#done-title").textContent = t(key, vars);
      $("#receipt").hidden = true;
      $("#done-text").textContent = "";
    },
    say: () => t(key, vars),
  });
}

function showStaff(reply) {
  if (!reply.ok && reply.error) return showError(reply.error.code);
  const doors = Object.values(reply.staff_open ?? {})
    .flatMap((r) => r.opens ?? [])
    .map((open) => open.compartment);
  if (doors.length === 0) return showDone("done.staff_nothing", false);
  return showDone("done.staff", true, { doors: doors.join(", ") });
}

const CODE_RETRY = new Set(["wrong_code", "invalid_code", "invalid_pickup_code", "pickup_code_too_short"]);
// A card at the reader that could not be used (lockerd's reader codes): said in both
// languages at once, since nobody has touched the screen to choose one.
const READER_CODES = new Set(["read_failed", "card_not_valid", "invalid_id_number"]);

function showError(code = "http_error") {
  // A card placed again may still start the armed drop-off: keep it armed (the return
  // to the start screen cancels it).
  if (!READER_CODES.has(code)) kiosk.armed = false;
  // A mistyped code: offer the keypad again (the lockout after repeated failures is lockerd's).
  const retry = CODE_RETRY.has(code) && kiosk.screen === "code" ? kiosk.code.purpose : null;
  show("error", {
    timeout: RESULT_S,
    render: () => {
      const text = $("#error-text");
      text.dataset.code = code;
      text.textContent = errorText(code);
      const other = $("#error-text-other");
      other.hidden = !READER_CODES.has(code);
      other.lang = lang() === "zh" ? "en" : "zh-CN";
      other.textContent = other.hidden ? "" : errorTextOther(code);
      const again = $("#error-retry");
      again.hidden = retry === null;
      again.dataset.go = retry === "dropoff" ? "code-dropoff" : "code-pickup";
    },
    say: () => errorText(code),
  });
}

// -- start ----------------------------------------------------------------------------

function onState(snapshot) {
  kiosk.snapshot = snapshot;
  if (kiosk.screen === "opened") checkFlow();
}

function updateClock() {
  const now = new Date();
  $("#clock").textContent = now.toLocaleTimeString(lang() === "zh" ? "zh-CN" : "en-GB", {
    hour: "2-digit",
    minute: "2-digit",
  });
}

async function main() {
  kiosk.token = takeToken();
  await loadMessages();
  translate(document);
  initSpeech();
  onLangChange(() => {
    kiosk.render?.();
    tick();
    updateClock();
  });
  $("#lang").addEventListener("click", () => setLang(lang() === "zh" ? "en" : "zh"));
  for (const button of document.querySelectorAll("[data-go]")) {
    button.addEventListener("click", () => go(button.dataset.go));
  }
  for (const button of document.querySelectorAll("[data-key]")) {
    button.addEventListener("click", () => key(button.dataset.key));
  }
  $("#code-submit").addEventListener("click", submitCode);
  $("#arm").addEventListener("click", arm);
  $("#accessible").addEventListener("click", () => {
    kiosk.choice.accessible = !kiosk.choice.accessible;
    kiosk.render?.();
  });
  document.addEventListener("pointerdown", touched, { capture: true });
  setInterval(() => {
    tick();
    updateClock();
  }, 1000);
  updateClock();
  show("idle");
  stream(
    kiosk.token,
    { state: onState, kiosk: onKioskEvent },
    (status) => {
      $("#offline").hidden = status === "live";
      document.body.dataset.stream = status;
    },
  );
  loadServices();
  document.body.dataset.ready = "true";
}

main();
