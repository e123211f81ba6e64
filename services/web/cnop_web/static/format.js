// Every number the UI shows goes through here: money, prices, quantities,
// percentages, estimates and shares. The API sends decimals as strings; they
// are handled as exact decimals (BigInt digits and a scale), never as floats,
// so $0.0000245 keeps its digits and 20000000.00000000 SHIB stays exact.

const PLAIN = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/;

// "12.50" -> { negative: false, units: 1250n, scale: 2 }; null if it is not a plain decimal.
export function parse(value) {
  if (value === null || value === undefined) return null;
  const match = PLAIN.exec(String(value).trim());
  if (!match || (match[2] === "" && !match[3])) return null;
  const fraction = match[3] ?? "";
  return { negative: match[1] === "-", units: BigInt(`${match[2] || "0"}${fraction}`), scale: fraction.length };
}

// To `places` decimals: "half-up" (display), "up" or "down" (towards or away
// from zero, as the order service rounds a buy's and a sell's total).
export function round(number, places, mode = "half-up") {
  if (number.scale <= places) {
    return { ...number, units: number.units * 10n ** BigInt(places - number.scale), scale: places };
  }
  const divisor = 10n ** BigInt(number.scale - places);
  let units = number.units / divisor;
  const rest = number.units % divisor;
  if ((mode === "half-up" && rest * 2n >= divisor) || (mode === "up" && rest > 0n)) units += 1n;
  return { negative: number.negative, units, scale: places };
}

export function multiply(a, b) {
  return { negative: a.negative !== b.negative, units: a.units * b.units, scale: a.scale + b.scale };
}

function isZero(number) {
  return number.units === 0n;
}

// "1234567" -> "1,234,567"
function group(whole) {
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

// The sign ("" or "-"), the grouped whole part and the fraction's digits.
function pieces(number) {
  const digits = number.units.toString().padStart(number.scale + 1, "0");
  const cut = digits.length - number.scale;
  return { sign: number.negative && !isZero(number) ? "-" : "", whole: group(digits.slice(0, cut)), fraction: digits.slice(cut) };
}

function join({ sign, whole, fraction }, prefix = "") {
  return `${sign}${prefix}${whole}${fraction ? `.${fraction}` : ""}`;
}

// Dollars to the cent, the sign before the dollar: "-$490.00", "$1,234,567.89".
export function money(value) {
  const number = parse(value);
  return number ? join(pieces(round(number, 2)), "$") : String(value);
}

// A unit price. From a dollar up: cents. Below a dollar: every digit the API
// sent (prices have up to eight decimals, all-time lows more), so a coin worth
// $0.0000245 never reads $0.00.
export function price(value) {
  const number = parse(value);
  if (!number) return String(value);
  if (number.units >= 10n ** BigInt(number.scale)) return money(value);
  return join(pieces(number.scale < 2 ? round(number, 2) : number), "$");
}

// An amount of an asset: separators, and no zeros that say nothing
// ("20000000.00000000" -> "20,000,000"; "0.00100000" -> "0.001").
export function quantity(value) {
  const number = parse(value);
  if (!number) return String(value);
  const parts = pieces(number);
  return join({ ...parts, fraction: parts.fraction.replace(/0+$/, "") });
}

// A percentage as the API sends it (two decimals), grouped, with its sign
// when `signed`: "+43,465,819.17%", "-0.62%".
export function percent(value, signed = true) {
  const number = parse(value);
  if (!number) return `${value}%`;
  const parts = pieces(number);
  const plus = signed && parts.sign === "" ? "+" : "";
  return `${plus}${join(parts)}%`;
}

// What a market order will cost or pay, as a plain decimal to the cent
// ("97.13"), rounded as the order service rounds it (against the trader: a
// buy up, a sell down). null when the quantity is not one the API would take.
export function estimate(quantityText, priceText, orderType) {
  const amount = parse(quantityText);
  const unit = parse(priceText);
  if (!amount || !unit || amount.negative || isZero(amount) || amount.scale > 8) return null;
  return plain(round(multiply(amount, unit), 2, orderType === "market_buy" ? "up" : "down"));
}

// -1, 0 or 1 as decimal `a` is below, equal to or above `b`.
export function compare(a, b) {
  const x = parse(a);
  const y = parse(b);
  const scale = Math.max(x.scale, y.scale);
  const signed = (n) => (n.negative ? -1n : 1n) * n.units * 10n ** BigInt(scale - n.scale);
  const difference = signed(x) - signed(y);
  return difference > 0n ? 1 : difference < 0n ? -1 : 0;
}

function plain(number) {
  const { sign, whole, fraction } = pieces(number);
  return join({ sign, whole: whole.replaceAll(",", ""), fraction });
}

// `part` as a percentage of `total`, half-up to two decimals ("12.34"); null for a zero total.
export function share(part, total) {
  const p = parse(part);
  const t = parse(total);
  if (!p || !t || isZero(t)) return null;
  // p/t * 100, scaled by 10^2: (P / 10^ps) / (T / 10^ts) * 10^4 = P * 10^(ts + 4) / (T * 10^ps)
  const numerator = p.units * 10n ** BigInt(t.scale + 4);
  const denominator = t.units * 10n ** BigInt(p.scale);
  let units = numerator / denominator;
  if ((numerator % denominator) * 2n >= denominator) units += 1n;
  return plain({ negative: p.negative !== t.negative, units, scale: 2 });
}

// A whole count with separators: "1,204".
export function count(value) {
  const number = parse(value);
  return number && number.scale === 0 ? join(pieces(number)) : String(value);
}
