// Calls to /api/v1 on this origin. The session token lives in an HttpOnly
// cookie the server sets, so nothing here ever sees or stores it.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

const NETWORK_MESSAGE = "Cannot reach the server. Check your connection and try again.";

// FastAPI's validation list, as one readable sentence per field.
function describe(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item) => {
        const field = (item.loc || []).filter((part) => part !== "body").join(".");
        return field ? `${field}: ${item.msg}` : item.msg;
      })
      .join("; ");
  }
  return "Something went wrong.";
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
    throw new ApiError(0, "NETWORK_ERROR", NETWORK_MESSAGE);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const retryAfter = Number(response.headers.get("Retry-After")) || null;
    const message = data && data.detail !== undefined ? describe(data.detail) : `The server answered ${response.status}.`;
    throw new ApiError(response.status, (data && data.code) || "ERROR", message, retryAfter);
  }
  return data;
}

export function newIdempotencyKey() {
  return crypto.randomUUID();
}
