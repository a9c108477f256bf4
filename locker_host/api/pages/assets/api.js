// Talking to lockerd's HTTP API (/api/v1) and its event stream.
//
// The token comes from the URL fragment (#token=...) that `lockerd demo`
// prints; it is kept in sessionStorage and the fragment is cleared at once,
// so it neither stays in the address bar nor reaches a server log.
// Every call resolves to the app's reply shape ({ok: true, ...} or
// {ok: false, error: {code, message}}), a network failure included, so a
// screen has one thing to handle.

const TOKEN_KEY = "locker.token";
const PREFIX = "/api/v1";

export function takeToken() {
  const match = location.hash.match(/(?:^#|&)token=([^&]+)/);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export async function call(path, { method = "GET", body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(PREFIX + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (problem) {
    return { ok: false, error: { code: "network", message: String(problem) } };
  }
  let reply = null;
  try {
    reply = await response.json();
  } catch {
    reply = null;
  }
  if (reply && typeof reply === "object" && "ok" in reply) return reply;
  if (response.ok) return { ok: true, body: reply };
  return { ok: false, error: { code: "http_error", message: `HTTP ${response.status}` } };
}

// A file behind the token (the audit CSV): fetched with the header, handed to the browser.
export async function download(path, token, filename) {
  const response = await fetch(PREFIX + path, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) return false;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return true;
}

// Server-Sent Events: EventSource cannot set headers, so the token rides in the query.
// EventSource reconnects by itself; onStatus hears "live" / "lost" for the banner.
export function stream(token, handlers, onStatus = () => {}) {
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  const source = new EventSource(`${PREFIX}/stream${query}`);
  source.addEventListener("open", () => onStatus("live"));
  source.addEventListener("error", () => onStatus("lost"));
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return; // a malformed event changes nothing on screen
      }
      handler(data);
    });
  }
  return source;
}
