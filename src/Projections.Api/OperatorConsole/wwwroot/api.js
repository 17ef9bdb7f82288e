// Calls to the service: the public routes that ops/projections uses, each with the operator's token in the
// Authorization header (never in a URL), answered as { status, ok, body, detail }. A request that gets no answer at
// all (the service or the network is away, or 8 s pass) throws a ConnectionError: the page shows it, never hides it.

export class ConnectionError extends Error {
  name = "ConnectionError";
}

const Timeout = 8000;

/**
 * @param {URL} root the service's address (the page is its /console/)
 * @param {() => string | null} token the operator's token, or null for the anonymous routes
 */
export function createApi(root, token) {
  async function request(method, path, { anonymous = false, accept = "application/json" } = {}) {
    const headers = { Accept: accept };
    if (!anonymous) {
      headers.Authorization = `Bearer ${token()}`;
    }

    let response, text;
    try {
      response = await fetch(new URL(path.replace(/^\//, ""), root), {
        method, headers, cache: "no-store", credentials: "omit", signal: AbortSignal.timeout(Timeout),
      });
      text = await response.text();
    } catch (e) {
      throw new ConnectionError(e.name === "TimeoutError" ? `no answer within ${Timeout / 1000} s` : e.message);
    }

    let body = text;
    if ((response.headers.get("Content-Type") ?? "").includes("json") && text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON after all: keep the text
      }
    }

    const detail = typeof body === "object" && body !== null
      ? body.detail ?? body.title ?? `${response.status}`
      : `${response.status} ${response.statusText}`.trim();
    return { status: response.status, ok: response.ok, body, detail };
  }

  return {
    get: (path, options) => request("GET", path, options),
    post: (path, options) => request("POST", path, options),
  };
}

/** The routes the console calls, in one place (all described in the service's OpenAPI document). */
export const Routes = {
  projections: "/api/admin/projections",
  rebuild: (name) => `/api/admin/projections/${encodeURIComponent(name)}/rebuild`,
  deadLetters: "/api/admin/projections/dead-letters",
  replayAll: "/api/admin/projections/dead-letters/replay",
  replay: (id) => `/api/admin/projections/dead-letters/${encodeURIComponent(id)}/replay`,
  ready: "/health/ready",
};
