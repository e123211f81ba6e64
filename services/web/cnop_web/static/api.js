// Calls to /api/v1 on this origin. The session token lives in an HttpOnly
// cookie the server sets, so nothing here ever sees or stores it.
import { sentence } from "./messages.js";

// `detail` is the API's own (a string or FastAPI's validation list), kept for
// the field errors; `message` is the sentence a person reads (messages.js).
export class ApiError extends Error {
  constructor(status, code, detail, retryAfter) {
    super("");
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfter = retryAfter;
    this.message = sentence(this);
  }
}

export async function api(method, path, body, extraHeaders = {}, prefix = "/api/v1") {
  const headers = { Accept: "application/json", ...extraHeaders };
  // Only our own script sends this header; the server refuses changes without it.
  if (method !== "GET") headers["X-Requested-With"] = "cnop-web";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`${prefix}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, "NETWORK_ERROR", null, null);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const retryAfter = Number(response.headers.get("Retry-After")) || null;
    throw new ApiError(response.status, (data && data.code) || "ERROR", data ? data.detail : null, retryAfter);
  }
  return data;
}

export function newIdempotencyKey() {
  return crypto.randomUUID();
}

// The limits the forms show (per order, per deposit, a day): the web server
// has them from the same settings the services read. Asked once per page load.
let limits = null;
export async function getLimits() {
  limits ??= api("GET", "/limits", undefined, {}, "").catch((error) => {
    limits = null;
    throw error;
  });
  return limits;
}
