// Building the page from data with text nodes only: values from the server
// are never parsed as HTML, so a hostile asset name or profile field cannot
// run script.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function field(label, name, attrs = {}) {
  return el("label", {}, label, el("input", { name, id: name, ...attrs }));
}

export function table(headers, rows, numeric = []) {
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { class: numeric.includes(i) ? "num" : null }, h)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell, i) => el("td", { class: numeric.includes(i) ? "num" : null }, cell))))),
  );
}

export function money(value) {
  const amount = Number(value);
  return Number.isFinite(amount) ? `$${amount.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}` : String(value);
}

// A unit price. From a dollar up: cents. Below a dollar: every digit the API
// sent (prices have up to eight decimals, all-time lows more), so a coin worth
// $0.0000245 never reads $0.00.
export function price(value) {
  const amount = Number(value);
  if (!Number.isFinite(amount)) return String(value);
  if (Math.abs(amount) >= 1) return money(value);
  const text = String(value);
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = text.replace("-", "").split(".");
  return `${negative ? "-" : ""}$${whole}.${fraction.padEnd(2, "0")}`;
}

// A signed percentage, coloured by direction ("+2.41%" up, "-0.62%" down).
export function change(percent) {
  if (percent === null || percent === undefined) return "";
  const up = Number(percent) >= 0;
  return el("span", { class: up ? "up" : "down" }, `${up && !String(percent).startsWith("+") ? "+" : ""}${percent}%`);
}

// A calendar day in UTC ("Mar 14, 2024"): all-time highs and lows are dated, not timed.
export function day(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? String(iso)
    : date.toLocaleDateString("en-US", { timeZone: "UTC", year: "numeric", month: "short", day: "numeric" });
}

export function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

// A form's fields as an object, leaving out empty optional ones.
export function values(form) {
  const out = {};
  for (const [name, value] of new FormData(form).entries()) {
    if (String(value).trim() !== "") out[name] = String(value).trim();
  }
  return out;
}

// Run a submit handler with the button disabled and errors shown in `status`.
export function onSubmit(form, status, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.replaceChildren();
    try {
      await handler(values(form));
    } catch (error) {
      status.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
    } finally {
      button.disabled = false;
    }
  });
}
