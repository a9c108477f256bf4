// Two languages, Simplified Chinese first: every visible string comes from
// messages.json ("ui" for the pages, "errors" for the app's error codes).
// Elements carry data-i18n="<key>"; dynamic text goes through t(key, vars).

let messages = { ui: {}, errors: {} };
let language = "zh";
const listeners = [];

export async function loadMessages() {
  const response = await fetch("/assets/messages.json", { cache: "no-store" });
  messages = await response.json();
}

export function lang() {
  return language;
}

export function setLang(next) {
  if (next === language) return;
  language = next;
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  translate(document);
  for (const listener of listeners) listener(next);
}

export function onLangChange(listener) {
  listeners.push(listener);
}

function pick(entry, key, which = language) {
  if (!entry) return key;
  return entry[which] ?? entry.zh ?? key;
}

export function t(key, vars = {}) {
  const text = pick(messages.ui[key], key);
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

// The plain words for an error code; an unknown code still says what to do.
export function errorText(code) {
  const entry = messages.errors[code];
  return entry ? pick(entry, code) : t("error.unknown", { code });
}

// The same words in the other language (a prompt shown in both at once).
export function errorTextOther(code) {
  const other = language === "zh" ? "en" : "zh";
  const entry = messages.errors[code];
  return entry ? pick(entry, code, other) : "";
}

export function hasError(code) {
  return code in messages.errors;
}

export function translate(root) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
}
