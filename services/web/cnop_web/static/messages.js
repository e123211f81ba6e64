// What a person reads when the API refuses something. The API's `detail` is
// precise and meant for programs ("amount: Value error, must be a plain
// decimal..."); here each error code and each form field has a sentence.
import { money } from "./format.js";

// By error code. A function gets the context of the form ({ limits, action }).
export const CODE_SENTENCES = {
  INSUFFICIENT_BALANCE: ({ action }) => (action === "withdraw"
    ? "You cannot withdraw more than your cash balance."
    : "You do not have enough cash for this order. Deposit on the Account page or buy less."),
  INSUFFICIENT_ASSET_BALANCE: () => "You hold less of this asset than you are trying to sell.",
  DAILY_LIMIT_EXCEEDED: ({ action, limits }) => (action === "withdraw"
    ? `This would take today's withdrawals over the daily limit of ${money(limits?.daily_withdraw_limit)}. Try a smaller amount, or tomorrow (days run on UTC).`
    : `This would take today's deposits over the daily limit of ${money(limits?.daily_deposit_limit)}. Try a smaller amount, or tomorrow (days run on UTC).`),
  ORDER_VALUE_EXCEEDED: ({ limits }) => `An order may be worth at most ${money(limits?.order_value_cap)}. Lower the quantity.`,
  ORDER_VALUE_TOO_SMALL: () => "This order would be worth less than a cent. Raise the quantity.",
  ORDER_TYPE_NOT_SUPPORTED: () => "Only market orders (buy or sell at the current price) can be placed.",
  ASSET_INACTIVE: () => "Trading in this asset is suspended.",
  ASSET_NOT_FOUND: () => "There is no such asset. Choose one from the list.",
  ASSET_BALANCE_NOT_FOUND: () => "You do not hold this asset.",
  BALANCE_NOT_FOUND: () => "Your account has no cash balance yet. Reload the page and try again.",
  ORDER_NOT_FOUND: () => "There is no such order.",
  USER_NOT_FOUND: () => "Your account was not found. Log in again.",
  USER_EXISTS: () => "That username or email address is taken. Choose another, or log in.",
  EMAIL_EXISTS: () => "An account with this email address exists already.",
  INVALID_CREDENTIALS: () => "Invalid username or password.",
  LOGIN_BLOCKED: ({ retryAfter }) => `Too many failed attempts. Try again in ${minutes(retryAfter ?? 900)}.`,
  RATE_LIMITED: ({ retryAfter }) => `Too many requests at once. Wait ${seconds(retryAfter ?? 60)} and try again.`,
  NOT_AUTHENTICATED: () => "Your session has ended. Log in again.",
  INVALID_TOKEN: () => "Your session has ended. Log in again.",
  TOKEN_EXPIRED: () => "Your session has expired. Log in again.",
  TOKEN_REVOKED: () => "You were logged out (perhaps in another tab). Log in again.",
  IDEMPOTENCY_KEY_REUSED: () => "This request was already sent with different details. Try again.",
  CONFLICT: () => "This changed at the same moment elsewhere. Reload the page and try again.",
  CSRF_REJECTED: () => "This page could not prove it is ours. Reload it and try again.",
  CORS_ORIGIN_NOT_ALLOWED: () => "This page could not prove it is ours. Reload it and try again.",
  UNTRUSTED_SOURCE: () => "This page could not prove it is ours. Reload it and try again.",
  VALIDATION_ERROR: () => "Some of what you entered is not valid. Check the highlighted fields.",
  PAYLOAD_TOO_LARGE: () => "What you entered is too long. Shorten it and try again.",
  HEADERS_TOO_LARGE: () => "The request was too large. Reload the page and try again.",
  MALFORMED_REQUEST: () => "The request was not understood. Reload the page and try again.",
  METHOD_NOT_ALLOWED: () => "The request was not understood. Reload the page and try again.",
  NOT_FOUND: () => "That was not found. Reload the page and try again.",
  ROUTE_NOT_FOUND: () => "That was not found. Reload the page and try again.",
  // Nothing happened: the request was refused before any change.
  AUTH_UNAVAILABLE: () => "Logging in is unavailable for a moment. Nothing was changed; try again shortly.",
  STORE_UNAVAILABLE: () => "Our records are unavailable for a moment. Nothing was changed; try again shortly.",
  UPSTREAM_UNAVAILABLE: () => "This part of the service is unavailable for a moment. Try again shortly.",
  GATEWAY_UNAVAILABLE: () => "The service is unavailable for a moment. Try again shortly.",
  BAD_GATEWAY: () => "The service answered in a way we did not expect. Try again shortly.",
  // A timeout cannot say whether the change was made: look before repeating it.
  GATEWAY_TIMEOUT: () => "The service took too long to answer, so we cannot tell whether this went through. Check your balance and orders before trying again.",
  REQUEST_TIMEOUT: () => "The request took too long to arrive. Try again.",
  INTERNAL_ERROR: () => "Something went wrong on our side. Check your balance and orders, then try again.",
  NETWORK_ERROR: () => "Cannot reach the server. Check your connection and try again.",
};

// By field (the name in the API's body): what a valid value looks like.
export const FIELD_SENTENCES = {
  amount: "Enter an amount in dollars above zero, like 250 or 99.95 (digits and at most two decimals, no commas).",
  quantity: "Enter a quantity of at least 0.001, like 0.5 (digits and at most eight decimals, no commas).",
  asset_id: "Choose an asset from the list.",
  order_type: "Choose Buy or Sell.",
  price: "Leave the price out: market orders trade at the current price.",
  username: "A username has 6 to 30 letters, digits or underscores.",
  password: "A password has 12 to 128 characters, with an upper-case and a lower-case letter, a digit and a symbol.",
  email: "Enter an email address, like name@example.com.",
  first_name: "Enter your first name: letters, spaces, apostrophes or hyphens (at most 50).",
  last_name: "Enter your last name: letters, spaces, apostrophes or hyphens (at most 50).",
  phone: "Enter a phone number of 10 to 15 digits (spaces, dashes, dots and brackets are fine).",
  date_of_birth: "Enter your date of birth as YYYY-MM-DD (you must be 13 or older).",
};

const MISSING = "This field is required.";

function minutes(secondsLeft) {
  const n = Math.max(1, Math.ceil(Number(secondsLeft) / 60));
  return `${n} minute${n === 1 ? "" : "s"}`;
}

function seconds(secondsLeft) {
  const n = Math.max(1, Math.ceil(Number(secondsLeft)));
  return `${n} second${n === 1 ? "" : "s"}`;
}

// The sentence for an ApiError, in the context of the form it came from.
export function sentence(error, context = {}) {
  const said = CODE_SENTENCES[error.code];
  if (said) return said({ ...context, retryAfter: error.retryAfter });
  if (error.status === 401) return CODE_SENTENCES.NOT_AUTHENTICATED();
  if (error.status === 429) return CODE_SENTENCES.RATE_LIMITED({ retryAfter: error.retryAfter });
  if (error.status >= 500) return CODE_SENTENCES.INTERNAL_ERROR();
  return "That did not work. Check what you entered and try again.";
}

// One sentence per field the API named in a validation error: { field: sentence }.
// Errors that name no field (a rule across fields) come back under "".
export function fieldSentences(detail) {
  const out = {};
  if (!Array.isArray(detail)) return out;
  for (const item of detail) {
    const loc = (item.loc || []).filter((part) => part !== "body");
    const name = loc.length ? String(loc[0]) : "";
    if (name in out) continue;
    if (item.type === "missing") out[name] = MISSING;
    else out[name] = FIELD_SENTENCES[name] ?? "This value is not valid.";
  }
  return out;
}
