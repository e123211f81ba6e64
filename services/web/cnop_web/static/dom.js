// Building the page from data with text nodes only: values from the server
// are never parsed as HTML, so a hostile asset name or profile field cannot
// run script.
import { percent } from "./format.js";
import { fieldSentences, sentence } from "./messages.js";

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

// A table in a box that scrolls sideways when the table is wider than the
// screen: a phone scrolls the table, never the page.
export function table(headers, rows, numeric = []) {
  return el("div", { class: "scroll" }, el(
    "table",
    {},
    el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { class: numeric.includes(i) ? "num" : null }, h)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell, i) => el("td", { class: numeric.includes(i) ? "num" : null }, cell))))),
  ));
}

// A signed percentage, coloured by direction ("+2.41%" up, "-0.62%" down).
export function change(value) {
  if (value === null || value === undefined) return "";
  const text = percent(value);
  return el("span", { class: text.startsWith("-") ? "down" : "up" }, text);
}

// A calendar day in UTC ("Mar 14, 2024"): all-time highs and lows are dated, not timed.
export function day(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? String(iso)
    : date.toLocaleDateString("en-US", { timeZone: "UTC", year: "numeric", month: "short", day: "numeric" });
}

// A moment in the reader's time zone, short enough for a phone's table ("12/5/26, 3:40 PM").
export function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString("en-US", { dateStyle: "short", timeStyle: "short" });
}

// A form's fields as an object, leaving out empty optional ones.
export function values(form) {
  const out = {};
  for (const [name, value] of new FormData(form).entries()) {
    if (String(value).trim() !== "") out[name] = String(value).trim();
  }
  return out;
}

// Every message and field error on the page: one action, one message, so
// what an earlier form said is gone when the next one is sent.
function clearMessages(scope) {
  for (const node of scope.querySelectorAll(".status")) node.replaceChildren();
  for (const node of scope.querySelectorAll(".field-error")) node.remove();
  for (const node of scope.querySelectorAll("[aria-invalid]")) {
    node.removeAttribute("aria-invalid");
    node.removeAttribute("aria-describedby");
  }
}

// A sentence under the input it is about, tied to it for screen readers.
function markField(input, text) {
  const note = el("p", { class: "field-error", id: `${input.id}-error` }, text);
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", note.id);
  input.after(note);
}

// Run a submit handler with the button disabled. A refusal is told in words
// (messages.js): validation errors under the fields they name, anything else
// in `status`. `context`: { action, limits } for the sentences, and `inputs`,
// the input id of each API field where the two differ ({ amount: "deposit-amount" }).
export function onSubmit(form, status, handler, context = {}) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    clearMessages(form.closest("main") ?? document);
    try {
      await handler(values(form));
    } catch (error) {
      const fields = error.code === "VALIDATION_ERROR" ? fieldSentences(error.detail) : {};
      const marked = [];
      for (const [name, text] of Object.entries(fields)) {
        const input = name && form.querySelector(`#${CSS.escape(context.inputs?.[name] ?? name)}`);
        if (input) {
          markField(input, text);
          marked.push(input);
        }
      }
      const summary = marked.length
        ? `Check the ${marked.length === 1 ? "field" : "fields"} marked in red.`
        : sentence(error, context);
      status.replaceChildren(el("p", { class: "error", role: "alert" }, summary));
      if (marked.length) marked[0].focus();
    } finally {
      button.disabled = false;
    }
  });
}
