// The page router: draws the view the path names, after checking the session
// for the pages that need one.
import { api, ApiError } from "./api.js";
import { el } from "./dom.js";
import { VIEWS } from "./views.js";

const PROTECTED = new Set(["/dashboard", "/trade", "/portfolio", "/account"]);
const main = document.getElementById("main");
const nav = document.getElementById("nav");
// Messages about the session itself (a failed logout) live outside <main>, so a
// page that finishes drawing afterwards cannot wipe them away.
const banner = document.getElementById("banner");
// Each navigation takes a ticket. A render whose ticket is no longer the newest
// was overtaken while it waited on the network and must not draw: otherwise a
// slow dashboard could land on top of the page the user moved on to.
let newest = 0;

export function go(path) {
  history.pushState(null, "", path);
  render();
}

// Who is logged in, asked of our server: the cookie is not readable here.
async function currentUser() {
  return (await api("GET", "/session", undefined, {}, "")).user;
}

function drawNav(user, path) {
  const link = (href, text) => el("a", { href, class: href === path ? "active" : null, "data-link": true }, text);
  if (!user) {
    nav.replaceChildren(link("/login", "Log in"), link("/register", "Register"));
    return;
  }
  const logout = el("button", { class: "link", type: "button", id: "logout" }, "Log out");
  logout.addEventListener("click", async () => {
    logout.disabled = true;
    banner.replaceChildren();
    try {
      await api("POST", "/auth/logout", {});
    } catch (error) {
      // A 401 means the session was already over; anything else, it may still be open.
      if (!(error instanceof ApiError && error.status === 401)) {
        banner.replaceChildren(el("p", { class: "error", role: "alert" }, `Logging out failed: ${error.message}`));
        logout.disabled = false;
        return;
      }
    }
    go("/login?loggedOut=1");
  });
  nav.replaceChildren(
    link("/dashboard", "Dashboard"), link("/trade", "Trade"), link("/portfolio", "Portfolio"), link("/account", "Account"),
    el("span", { class: "who" }, user.username), logout,
  );
}

export async function render() {
  const ticket = ++newest;
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  const overtaken = () => {
    if (ticket === newest) return false;
    console.debug(`render of ${path} overtaken by a newer navigation`);
    return true;
  };
  banner.replaceChildren();
  let user = null;
  try {
    user = await currentUser();
  } catch (error) {
    if (overtaken()) return;
    drawNav(null, path);
    main.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  if (overtaken()) return;
  if (PROTECTED.has(path) && !user) {
    // The query comes along: an asset page's "Buy BTC" lands on the trade form with BTC chosen.
    go(`/login?next=${encodeURIComponent(path + location.search)}`);
    return;
  }
  if (path === "/") {
    go(user ? "/dashboard" : "/login");
    return;
  }
  drawNav(user, path);
  const view = VIEWS[path] || (/^\/assets\/[^/]+$/.test(path) ? VIEWS.asset : VIEWS.notFound);
  document.title = `${view.title} · CNOP Trading`;
  main.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  try {
    const content = await view.draw({ user, params, go, path });
    if (overtaken()) return;
    main.replaceChildren(content);
  } catch (error) {
    if (overtaken()) return;
    if (error instanceof ApiError && error.status === 401) {
      go(`/login?next=${encodeURIComponent(path)}`);
      return;
    }
    main.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
  }
}

// Same-origin links navigate without a reload.
document.addEventListener("click", (event) => {
  const anchor = event.target.closest("a[data-link], a.brand");
  if (!anchor || event.metaKey || event.ctrlKey) return;
  event.preventDefault();
  go(anchor.getAttribute("href"));
});
window.addEventListener("popstate", render);
render();

// The service worker keeps the static files for repeat visits and shows the
// offline page when the server cannot be reached. Without it the UI works the same.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch((error) => {
    console.warn(`service worker not registered: ${error.message}`);
  });
}
