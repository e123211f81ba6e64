// One function per page. Each returns the page's content as a DOM node.
import { api, getLimits, newIdempotencyKey } from "./api.js";
import { change, day, el, field, onSubmit, table, when } from "./dom.js";
import { compare, count, estimate, money, parse, percent, price, quantity, share } from "./format.js";

const QUANTITY = { inputmode: "decimal", required: true, autocomplete: "off" };

function card(title, ...children) {
  return el("section", { class: "card" }, title ? el("h2", {}, title) : null, ...children);
}

function status() {
  return el("div", { class: "status" });
}

function notice(text) {
  return el("p", { class: "notice", role: "status" }, text);
}

// A short line under a form: the rule it is held to.
function rule(text) {
  return el("p", { class: "rule" }, text);
}

function link(href, text, attrs = {}) {
  return el("a", { href, "data-link": true, ...attrs }, text);
}

async function login({ params, go }) {
  // Just registered: the new username is filled in, the password is what is left to type.
  const known = params.get("registered") ? params.get("username") : null;
  const form = el("form", { id: "login-form" },
    field("Username", "username", { required: true, autocomplete: "username", value: known }),
    field("Password", "password", { type: "password", required: true, autocomplete: "current-password" }),
    el("button", { type: "submit" }, "Log in"));
  const out = status();
  onSubmit(form, out, async (data) => {
    await api("POST", "/auth/login", data);
    const next = params.get("next");
    // Only a path on this site: never an open redirect ("//host" and "/\\host" are hosts).
    const local = next && next.startsWith("/") && !next.startsWith("//") && !next.includes("\\");
    go(local ? next : "/dashboard");
  });
  return el("div", {}, el("h1", {}, "Log in"),
    params.get("registered") ? notice("Account created. Log in to continue.") : null,
    params.get("loggedOut") ? notice("You are logged out.") : null,
    card(null, form, out));
}

async function register({ go }) {
  const form = el("form", { id: "register-form" },
    field("Username (6–30 letters, digits or _)", "username", { required: true, minlength: 6, maxlength: 30, autocomplete: "username" }),
    field("Email", "email", { type: "email", required: true, autocomplete: "email" }),
    field("Password (12+ characters: upper, lower, digit, symbol)", "password", { type: "password", required: true, minlength: 12, autocomplete: "new-password" }),
    field("First name", "first_name", { required: true, autocomplete: "given-name" }),
    field("Last name", "last_name", { required: true, autocomplete: "family-name" }),
    field("Phone (optional)", "phone", { type: "tel", autocomplete: "tel" }),
    el("button", { type: "submit" }, "Create account"));
  const out = status();
  onSubmit(form, out, async (data) => {
    await api("POST", "/auth/register", data);
    go(`/login?registered=1&username=${encodeURIComponent(data.username)}`);
  });
  return el("div", {}, el("h1", {}, "Create an account"), card(null, form, out));
}

function transactionsTable(transactions) {
  if (!transactions.length) return el("p", { class: "muted" }, "No transactions yet.");
  return table(["When", "Type", "Amount", "Status"],
    transactions.map((t) => [when(t.created_at), t.transaction_type.replaceAll("_", " "), money(t.amount), t.status]), [2]);
}

async function dashboard({ user }) {
  const [portfolio, history] = await Promise.all([
    api("GET", "/portfolio"), api("GET", "/balance/transactions?limit=5"),
  ]);
  // Nothing yet: say where the first step is taken.
  const empty = parse(portfolio.total_value)?.units === 0n;
  return el("div", {}, el("h1", {}, `Welcome, ${user.first_name}`),
    empty ? card("Get started", el("p", { id: "get-started" }, "Your account has no cash yet. ",
      link("/account", "Deposit cash on the Account page"), " to start trading.")) : null,
    el("div", { class: "grid" },
      card("Cash", el("p", { class: "figure", id: "cash" }, money(portfolio.cash_balance))),
      card("Total value", el("p", { class: "figure", id: "total-value" }, money(portfolio.total_value))),
      card("Assets held", el("p", { class: "figure" }, count(portfolio.assets.length)))),
    card("Recent activity", transactionsTable(history.transactions)));
}

function ordersTable(orders) {
  if (!orders.length) return el("p", { class: "muted" }, "No orders yet.");
  return table(["When", "Order", "Asset", "Quantity", "Price", "Total"],
    orders.map((o) => [when(o.created_at), o.order_type === "market_buy" ? "Buy" : "Sell", o.asset_id, quantity(o.quantity), price(o.price), money(o.total_amount)]),
    [3, 4, 5]);
}

function assetLink(a) {
  return el("a", { href: `/assets/${encodeURIComponent(a.asset_id)}`, "data-link": true }, `${a.symbol} · ${a.name}`);
}

// GET /inventory/assets/{id}: the original platform's market data, public.
async function assetDetail({ path }) {
  const id = decodeURIComponent(path.slice("/assets/".length));
  let a;
  try {
    a = (await api("GET", `/inventory/assets/${encodeURIComponent(id)}`)).data;
  } catch (error) {
    if (error.status !== 404) throw error;
    // A mistyped or retired symbol: say so, and lead back to the assets that exist.
    return el("div", { id: "asset-missing" },
      el("h1", {}, "Asset not found"),
      el("p", {}, `There is no asset called ${id}.`),
      el("p", {}, link("/trade", "See every asset and its price")));
  }
  const extreme = (value, percent, date) => el("span", {}, price(value), " ", change(percent), ` on ${day(date)}`);
  const supply = (value) => (value === null ? "—" : quantity(value));
  const rows = [
    ["24 h change", el("span", {}, price(a.price_change_24h), " ", change(a.price_change_percentage_24h))],
    ["7 d change", change(a.price_change_percentage_7d)],
    ["30 d change", change(a.price_change_percentage_30d)],
    ["24 h range", `${price(a.low_24h)} – ${price(a.high_24h)}`],
    ["Market cap", money(a.market_cap)],
    ["24 h volume", money(a.total_volume_24h)],
    ["Circulating supply", supply(a.circulating_supply)],
    ["Total supply", supply(a.total_supply)],
    ["Max supply", supply(a.max_supply)],
    ["All-time high", extreme(a.ath, a.ath_change_percentage, a.ath_date)],
    ["All-time low", extreme(a.atl, a.atl_change_percentage, a.atl_date)],
    ["Last updated", when(a.last_updated)],
  ];
  return el("div", { id: "asset" },
    el("h1", {}, `${a.name} (${a.symbol})`),
    el("p", { class: "figure", id: "asset-price" }, price(a.price_usd)),
    a.is_active
      ? el("p", { class: "actions" },
        link(`/trade?asset=${encodeURIComponent(a.asset_id)}&side=market_buy`, `Buy ${a.symbol}`, { class: "button", id: "buy-asset" }),
        link(`/trade?asset=${encodeURIComponent(a.asset_id)}&side=market_sell`, `Sell ${a.symbol}`, { class: "button secondary", id: "sell-asset" }))
      : notice("Trading in this asset is suspended."),
    card("Market", table(["", ""], rows, [1])),
    el("p", {}, link("/trade", "Trade and see all prices")));
}

// What the order will cost or pay at the price shown, before it is placed.
function estimateLine(form, assets, limits) {
  const line = el("p", { class: "rule", id: "estimate", "aria-live": "polite" });
  const update = () => {
    const { order_type: type, asset_id: assetId, quantity: amount } = form.elements;
    const side = type.value;
    const asset = assets.find((a) => a.asset_id === assetId.value);
    const total = asset ? estimate(amount.value.trim(), asset.price_usd, side) : null;
    const cap = money(limits.order_value_cap);
    if (total === null) {
      line.replaceChildren(`Enter a quantity to see what it ${side === "market_buy" ? "costs" : "pays"}. Orders are worth at most ${cap} each.`);
      return;
    }
    line.replaceChildren(
      `Estimated ${side === "market_buy" ? "cost" : "proceeds"}: `, el("strong", {}, money(total)),
      ` (${quantity(amount.value.trim())} × ${price(asset.price_usd)}). The price is fixed when the order is placed. `,
      compare(total, limits.order_value_cap) > 0
        ? el("span", { class: "down" }, `That is above the ${cap} limit per order.`)
        : `Orders are worth at most ${cap} each.`);
  };
  for (const name of ["input", "change"]) form.addEventListener(name, update);
  update();
  return line;
}

async function trade({ params }) {
  const [assets, orders, limits] = await Promise.all([
    api("GET", "/inventory/assets?active_only=true&limit=250"), api("GET", "/orders?limit=10"), getLimits(),
  ]);
  // From an asset's page: that asset and side are chosen already.
  const chosen = params.get("asset");
  const select = el("select", { name: "asset_id", id: "asset_id", required: true },
    assets.data.map((a) => el("option", { value: a.asset_id, selected: a.asset_id === chosen }, `${a.symbol} — ${a.name} (${price(a.price_usd)})`)));
  const side = params.get("side") === "market_sell" ? "market_sell" : "market_buy";
  const form = el("form", { id: "order-form", class: "inline" },
    el("label", {}, "Asset", select),
    el("label", {}, "Side", el("select", { name: "order_type", id: "order_type" },
      el("option", { value: "market_buy", selected: side === "market_buy" }, "Buy"),
      el("option", { value: "market_sell", selected: side === "market_sell" }, "Sell"))),
    field("Quantity", "quantity", QUANTITY),
    el("button", { type: "submit" }, "Place order"));
  const out = status();
  const history = el("div", { id: "orders" }, ordersTable(orders.data));
  onSubmit(form, out, async (data) => {
    // A fresh key per submission: a retried request can never trade twice.
    const placed = await api("POST", "/orders", data, { "Idempotency-Key": newIdempotencyKey() });
    const o = placed.data;
    out.replaceChildren(notice(`${o.order_type === "market_buy" ? "Bought" : "Sold"} ${quantity(o.quantity)} ${o.asset_id} at ${price(o.price)} for ${money(o.total_amount)}.`));
    history.replaceChildren(ordersTable((await api("GET", "/orders?limit=10")).data));
  }, { action: "order", limits });
  const prices = table(["#", "Asset", "Price", "24 h"],
    assets.data.map((a) => [a.market_cap_rank ?? "", assetLink(a), price(a.price_usd), change(a.price_change_percentage_24h)]),
    [2, 3]);
  return el("div", {}, el("h1", {}, "Trade"),
    card("Market order", form, estimateLine(form, assets.data, limits), out),
    card("Your recent orders", history), card("Prices", prices));
}

async function portfolio() {
  const p = await api("GET", "/portfolio");
  // Shares of the total value: cash is part of it, so it has a row (and the column adds up to 100 %).
  const cashShare = share(p.cash_balance, p.total_value);
  const holdings = p.assets.length
    ? table(["Asset", "Quantity", "Price", "Value", "Share"],
      [...p.assets.map((a) => [`${a.asset_id} · ${a.asset_name}`, quantity(a.quantity), price(a.current_price), money(a.market_value), percent(a.percentage, false)]),
        ["Cash", "", "", money(p.cash_balance), cashShare === null ? "—" : percent(cashShare, false)]],
      [1, 2, 3, 4])
    : el("p", { class: "muted" }, "You hold no assets yet.");
  return el("div", {}, el("h1", {}, "Portfolio"),
    el("div", { class: "grid" }, card("Cash", el("p", { class: "figure" }, money(p.cash_balance))),
      card("Total value", el("p", { class: "figure" }, money(p.total_value)))),
    card("Holdings", el("div", { id: "holdings" }, holdings)));
}

// A deposit or withdrawal form. The message it shows is ours, from the
// request and its answer: the API's text has no separators ("$5000.00").
function moneyForm(id, label, path, done, after, limits) {
  const form = el("form", { id: `${id}-form`, class: "inline" }, field("Amount (USD)", `${id}-amount`, QUANTITY), el("button", { type: "submit" }, label));
  const out = status();
  onSubmit(form, out, async (data) => {
    const amount = data[`${id}-amount`];
    await api("POST", path, { amount }, { "Idempotency-Key": newIdempotencyKey() });
    form.reset();
    await after();
    out.replaceChildren(notice(`${done} ${money(amount)}.`));
  }, { action: id, limits, inputs: { amount: `${id}-amount` } });
  return [form, out];
}

async function account({ user }) {
  const balance = el("p", { class: "figure", id: "balance" });
  const history = el("div", { id: "transactions" });
  const refresh = async () => {
    const [b, t] = await Promise.all([api("GET", "/balance"), api("GET", "/balance/transactions?limit=20")]);
    balance.replaceChildren(money(b.current_balance));
    history.replaceChildren(transactionsTable(t.transactions));
  };
  const [limits] = await Promise.all([getLimits(), refresh()]);
  const profile = el("form", { id: "profile-form" },
    field("First name", "first_name", { value: user.first_name, required: true }),
    field("Last name", "last_name", { value: user.last_name, required: true }),
    field("Email", "email", { type: "email", value: user.email, required: true }),
    field("Phone", "phone", { type: "tel", value: user.phone ?? "" }),
    el("button", { type: "submit" }, "Save profile"));
  const profileOut = status();
  onSubmit(profile, profileOut, async (data) => {
    await api("PUT", "/auth/profile", data);
    profileOut.replaceChildren(notice("Profile saved."));
  }, { action: "profile" });
  return el("div", {}, el("h1", {}, "Account"),
    card("Cash balance", balance,
      el("h3", {}, "Deposit"),
      ...moneyForm("deposit", "Deposit", "/balance/deposit", "Deposited", refresh, limits),
      rule(`Up to ${money(limits.max_deposit)} per deposit and ${money(limits.daily_deposit_limit)} a day.`),
      el("h3", {}, "Withdraw"),
      ...moneyForm("withdraw", "Withdraw", "/balance/withdraw", "Withdrew", refresh, limits),
      rule(`Up to ${money(limits.daily_withdraw_limit)} a day, and no more than your cash balance. Days run on UTC.`)),
    card(`Profile of ${user.username}`, profile, profileOut),
    card("Transactions", history));
}

async function notFound() {
  return el("div", {}, el("h1", {}, "Page not found"), el("p", {}, link("/", "Go to the start page")));
}

export const VIEWS = {
  "/login": { title: "Log in", draw: login },
  "/register": { title: "Register", draw: register },
  "/dashboard": { title: "Dashboard", draw: dashboard },
  "/trade": { title: "Trade", draw: trade },
  "/portfolio": { title: "Portfolio", draw: portfolio },
  "/account": { title: "Account", draw: account },
  asset: { title: "Asset", draw: assetDetail },
  notFound: { title: "Not found", draw: notFound },
};
